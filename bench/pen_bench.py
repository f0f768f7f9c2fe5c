"""The pen of the model's input, by measurement: stroke-file digits drawn small, medium and large.

    python bench/pen_bench.py [--model models/mnist_int8.npz] [--every 2]

Every ``--every``-th sample of ``tests/strokes/styles`` is scaled about its middle so that its ink is
17%, 40% or 72% of the pad's height, drawn the way the page draws the model's input (one pass per
stroke, ``tests/stroke_files.py``) with the visible pad's fixed 21 px brush, with a pen of a few
ratios of the tallest glyph's height, and with the page's own rule (``web/ink_pen.js``), then
preprocessed and read. Prints accuracy of ``predict`` and of ``predict(reject=True)`` per size and pen.
"""

import argparse
import sys
import time
from dataclasses import replace

import numpy as np

from common import ROOT, machine, machine_line

sys.path.insert(0, str(ROOT / "tests"))
import engine  # noqa: E402
import stroke_files  # noqa: E402  (tests/ is on the path from here)
from digits.paths import SHIPPED_MODEL  # noqa: E402

SIZES = {"small": 0.17, "medium": 0.40, "large": 0.72}  # ink height / pad height
RATIOS = (0.08, 0.10, 0.12, 0.14)


def scaled(s: stroke_files.Sample, height: float) -> stroke_files.Sample:
    """The sample scaled about its box's middle to ``height`` pad heights, in the middle of the pad."""
    pts = np.concatenate([np.asarray(p, np.float64) for p in s.strokes])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    mid, k = (lo + hi) / 2, height * s.pad / max(hi[1] - lo[1], 1e-6)
    strokes = [
        [[float((x - mid[0]) * k + s.pad / 2), float((y - mid[1]) * k + s.pad / 2)] for x, y in st] for st in s.strokes
    ]
    return replace(s, strokes=strokes)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(SHIPPED_MODEL))
    ap.add_argument("--every", type=int, default=2, help="take every n-th sample of each style (1: all)")
    args = ap.parse_args(argv)
    model = engine.load_model(args.model)
    samples = [s for group in stroke_files.load_styles().values() for s in group[:: args.every]]
    labels = np.array([s.label for s in samples])
    pens = [("fixed 21 px (the visible brush)", lambda s: stroke_files.PAD_PEN)]
    pens += [
        (f"{r} x glyph height", lambda s, r=r: max(3.0, r * float(np.ptp(np.concatenate(s.strokes)[:, 1]))))
        for r in RATIOS
    ]
    pens += [("the page's rule (web/ink_pen.js)", stroke_files.ink_pen)]
    print(f"Machine: {machine_line(machine())}\n{len(samples)} samples; model {args.model}\n")
    print("| size | pen | predict | reject=True: accuracy | rejected |\n|---|---|---:|---:|---:|")
    t0 = time.perf_counter()
    for size, height in SIZES.items():
        drawn = [scaled(s, height) for s in samples]
        for name, pen in pens:
            x = np.stack([engine.preprocess(stroke_files.render(s, live=False, pen=pen(s))) for s in drawn])
            plain, rejecting = model.predict(x), model.predict(x, reject=True)
            print(
                f"| {size} ({height:.0%}) | {name} | {np.mean(plain == labels):.1%} | "
                f"{np.mean(rejecting == labels):.1%} | {int(np.sum(rejecting == -1))} |",
                flush=True,
            )
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
