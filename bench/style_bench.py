"""Handwriting styles MNIST barely has: accuracy per style and per digit on the stroke test set.

    python bench/style_bench.py [--model models/mnist_int8.npz] [--pad-pen | --ink-pen] [--redraw]

The samples are ``tests/strokes/styles/*.json`` (made by ``tests/strokes/make_styles.py``,
never seen by training): slashed zeros, flagged and footed ones, crossed and hooked
sevens, open and closed fours, one- and two-stroke fives, curly nines, wide eights and
more, each drawn at many sizes, slants, places and pen widths. Each sample is drawn the
way the page's pad draws it (``tests/stroke_files.py``) and preprocessed by
``engine.preprocess``, then read by ``predict`` and by ``predict(reject=True)``.

For every style and digit: accuracy of ``predict``; how many ``predict(reject=True)``
rejects (reads as "not a digit") and its accuracy (a rejected sample counts as wrong);
what the wrong readings were. Also by digit height on the pad and by pen width. Figures
go to ``bench/out/style_bench.json``.

``--pad-pen`` draws every sample with the visible pad's pen (21 px on the 280 px pad)
instead of the sample's; ``--ink-pen`` with the pen the page really draws the model's input
with (``web/ink_pen.js``: 0.12 of the tallest glyph's height, so the figures are the page's);
``--redraw`` paints each stroke's path once (the page's
``redraw`` after undo or resize) instead of piece by piece as the pen moves.
"""

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from common import RESULTS_DIR, ROOT, framework_threads, machine, machine_line

sys.path.insert(0, str(ROOT / "tests"))
import engine  # noqa: E402
import stroke_files  # noqa: E402  (tests/ is on the path from here)
from digits.paths import SHIPPED_MODEL  # noqa: E402

HEIGHT_BINS = ((0, 100, "height < 100 px"), (100, 170, "height 100-170 px"), (170, 1e9, "height >= 170 px"))
PEN_BINS = ((0, 17, "pen < 17 px"), (17, 23, "pen 17-23 px"), (23, 1e9, "pen >= 23 px"))


def group_figures(labels: np.ndarray, plain: np.ndarray, rejecting: np.ndarray) -> dict:
    """Counts and accuracies of one group of samples (true ``labels``, readings without and with rejection)."""
    n = len(labels)
    wrong = Counter(int(p) for p, t in zip(plain, labels) if p != t)
    return {
        "n": n,
        "accuracy": float((plain == labels).mean()) if n else 0.0,
        "rejected": int((rejecting == -1).sum()),
        "accuracy_reject": float((rejecting == labels).mean()) if n else 0.0,
        "misread_as": {str(k): v for k, v in wrong.most_common()},
    }


def sample_height(s: stroke_files.Sample) -> float:
    """The sample's ink height on a 280 px pad (points only, without the pen)."""
    pts = np.concatenate([np.asarray(p, np.float64) for p in s.strokes])
    return float(np.ptp(pts[:, 1])) * stroke_files.INK_SIZE / s.pad


def run(model, styles: dict[str, list[stroke_files.Sample]], live: bool = True, pen=None) -> dict:
    """``pen`` as ``stroke_files.pen_for`` takes it: None (each sample's), pad pixels, or ``ink_pen``."""
    samples = [s for group in styles.values() for s in group]
    t0 = time.perf_counter()
    x = stroke_files.inputs(samples, live=live, pen=pen)  # (N, 28, 28)
    t1 = time.perf_counter()
    with framework_threads(False):
        plain = model.predict(x)
        rejecting = model.predict(x, reject=True)
    labels = np.array([s.label for s in samples])
    names = np.array([s.style for s in samples])
    heights = np.array([sample_height(s) for s in samples])
    pens = np.array([stroke_files.pen_for(s, pen) for s in samples])

    def figures(mask: np.ndarray) -> dict:
        return group_figures(labels[mask], plain[mask], rejecting[mask])

    return {
        "samples": len(samples),
        "render_seconds": round(t1 - t0, 2),
        "live": live,
        "pen": "per sample" if pen is None else "the page's ink pen" if callable(pen) else pen,
        "overall": figures(np.ones(len(samples), bool)),
        "styles": {name: figures(names == name) for name in styles},
        "digits": {str(d): figures(labels == d) for d in range(10) if (labels == d).any()},
        "heights": {label: figures((heights >= lo) & (heights < hi)) for lo, hi, label in HEIGHT_BINS},
        "pens": {label: figures((pens >= lo) & (pens < hi)) for lo, hi, label in PEN_BINS},
    }


def table(title: str, groups: dict[str, dict]) -> list[str]:
    lines = [
        f"| {title} | n | predict | reject=True: rejected | reject=True: accuracy | misread as |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, g in groups.items():
        wrong = ", ".join(f"{k}×{v}" for k, v in g["misread_as"].items()) or "–"
        lines.append(
            f"| {name} | {g['n']} | {g['accuracy']:.1%} | {g['rejected']} | {g['accuracy_reject']:.1%} | {wrong} |"
        )
    return lines


def report(result: dict) -> list[str]:
    o = result["overall"]
    lines = [
        f"Model: {result['model']}",
        f"Machine: {machine_line(result['machine'])}",
        f"{result['samples']} samples in {len(result['styles'])} styles, drawn "
        f"{'as the pen moves' if result['live'] else 'in one pass (redraw)'}, pen {result['pen']}; "
        f"rendering + preprocessing {result['render_seconds']} s",
        f"Overall: predict {o['accuracy']:.1%}; predict(reject=True) rejects {o['rejected']} "
        f"and reads {o['accuracy_reject']:.1%} right",
        "",
    ]
    lines += table("style", result["styles"]) + [""]
    lines += table("digit", result["digits"]) + [""]
    lines += table("size on the pad", result["heights"]) + [""]
    lines += table("pen width", result["pens"])
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=SHIPPED_MODEL, help="model file (default: the shipped int8 model)")
    pens = ap.add_mutually_exclusive_group()
    pens.add_argument("--pad-pen", action="store_true", help="draw every sample with the visible pad's 21 px pen")
    pens.add_argument(
        "--ink-pen",
        action="store_true",
        help="draw every sample with the pen the page draws the model's input with (web/ink_pen.js)",
    )
    ap.add_argument("--redraw", action="store_true", help="paint each stroke once instead of as the pen moves")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "style_bench.json", help="where the figures go")
    args = ap.parse_args(argv)
    model = engine.load_model(args.model)
    styles = stroke_files.load_styles()
    pen = stroke_files.PAD_PEN if args.pad_pen else stroke_files.ink_pen if args.ink_pen else None
    result = run(model, styles, live=not args.redraw, pen=pen)
    result = {"model": str(args.model), "machine": machine(), **result}
    print("\n".join(report(result)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
