"""Teaching the model one person's handwriting: ``engine.personalize`` on writers it misreads.

    python bench/personalize_bench.py [--model models/mnist_int8.npz] [--mnist N] [--opt name=value ...]

Writers are the stroke test styles (``tests/strokes/styles/*.json``, 16 samples each, drawn
as the page's pad draws them, ``tests/stroke_files.py``): the even-numbered samples are the
teaching half, the odd-numbered ones the test half, never taught.

- One writer per style the shipped model misreads: taught 5 samples of that style, then
  their error on the style's 8 test samples, before and after (target: at least halved),
  and on every other style's test samples (what the lesson costs elsewhere).
- A whole writer: one style per digit (slashed 0, long-flag 1, looped 2, flat-top 3, open 4,
  one-stroke 5, plain 6, crossed 7, two-circle 8, curly 9), 5 samples of each taught (50
  examples): error on their 80 test samples before and after, and the time personalizing
  takes in CPython on one thread (BLAS and the engine's threads pinned to one, as in the
  page; median of 3; target 1.5 s here for 10 s in Pyodide).
- MNIST test accuracy of every personalized model against the shipped one (target: at most
  0.3 points lower).

``--opt name=value`` passes a ``PersonalizeOptions`` field (for trying other settings).
Figures go to ``bench/out/personalize_bench.json``.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads: one thread, as in the page

import numpy as np

from common import RESULTS_DIR, ROOT, machine, machine_line

sys.path.insert(0, str(ROOT / "tests"))
import engine  # noqa: E402
import stroke_files  # noqa: E402  (tests/ is on the path from here)
from digits.mnist import load_mnist  # noqa: E402
from digits.paths import SHIPPED_MODEL  # noqa: E402
from engine import parallel  # noqa: E402

WRITER = (
    "0-slashed",
    "1-long-flag",
    "2-looped",
    "3-flat-top",
    "4-open",
    "5-one-stroke",
    "6-plain",
    "7-crossbar",
    "8-two-circles",
    "9-curly",
)
TEACH = 5  # examples taught per style


def halves(images: dict, labels: dict, style: str):
    """(teach images, labels, test images, labels) of one style: even samples teach, odd ones test."""
    x, y = images[style], labels[style]
    return x[0::2][:TEACH], y[0::2][:TEACH], x[1::2], y[1::2]


def error(model, x, y) -> float:
    return float((model.predict(x) != y).mean())


def parse_opts(pairs):
    opts = {}
    for pair in pairs:
        name, value = pair.split("=", 1)
        opts[name] = value.lower() == "true" if value.lower() in ("true", "false") else json.loads(value)
    return opts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--mnist", type=int, default=10000, help="MNIST test images to score (10000)")
    parser.add_argument("--opt", action="append", default=[], help="a PersonalizeOptions field, name=value")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/out/personalize_bench.json")
    args = parser.parse_args(argv)
    opts = parse_opts(args.opt)
    parallel.set_num_threads(1)
    info = machine()
    info["threads"] = 1
    model = engine.load_model(args.model)
    mnist = load_mnist(log=lambda *a: None)
    mx, my = mnist["test_images"][: args.mnist], mnist["test_labels"][: args.mnist].astype(np.int64)
    styles = stroke_files.load_styles()
    images = {name: stroke_files.inputs(samples) for name, samples in styles.items()}
    labels = {name: np.array([s.label for s in samples], np.int64) for name, samples in styles.items()}
    base_mnist = 1 - error(model, mx, my)
    base_style = {s: error(model, images[s][1::2], labels[s][1::2]) for s in styles}
    misread = [s for s in styles if error(model, images[s], labels[s]) > 0]
    lines = [f"Machine: {machine_line(info)}", f"Model: {args.model.name}, MNIST test ({len(my)}) {base_mnist:.2%}"]
    lines.append(f"Options: {opts or 'defaults'}; seed {args.seed}")
    result: dict = {"machine": info, "model": str(args.model), "options": opts, "mnist_base": base_mnist, "writers": {}}

    def teach(x, y):
        t = time.perf_counter()
        mine = engine.personalize(model, x, y, rng=np.random.default_rng(args.seed), **opts)
        return mine, time.perf_counter() - t

    lines.append("")
    lines.append(
        "| writer | taught | error before | error after | cut | other styles' error before -> after | MNIST test | seconds |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for style in misread:
        tx, ty, vx, vy = halves(images, labels, style)
        mine, seconds = teach(tx, ty)
        before, after = base_style[style], error(mine, vx, vy)
        others = [s for s in styles if s != style]
        ox = np.concatenate([images[s][1::2] for s in others])
        oy = np.concatenate([labels[s][1::2] for s in others])
        other_before, other_after = error(model, ox, oy), error(mine, ox, oy)
        acc = 1 - error(mine, mx, my)
        cut = 1 - after / before if before else float("nan")
        result["writers"][style] = {
            "taught": len(ty),
            "error_before": before,
            "error_after": after,
            "other_before": other_before,
            "other_after": other_after,
            "mnist": acc,
            "seconds": seconds,
        }
        lines.append(
            f"| {style} | {len(ty)} | {before:.1%} | {after:.1%} | {cut:.0%} | {other_before:.1%} -> {other_after:.1%} "
            f"| {acc:.2%} ({(acc - base_mnist) * 100:+.2f}) | {seconds:.2f} |"
        )

    # The whole writer: 5 samples of each of their ten styles.
    parts = [halves(images, labels, s) for s in WRITER]
    tx, ty = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    vx, vy = np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts])
    times = []
    for _ in range(3):
        mine, seconds = teach(tx, ty)
        times.append(seconds)
    before, after = error(model, vx, vy), error(mine, vx, vy)
    acc = 1 - error(mine, mx, my)
    again = engine.personalize(model, tx, ty, rng=np.random.default_rng(args.seed), **opts)
    same = all(np.array_equal(a, again.arrays[k]) for k, a in mine.arrays.items())
    result["whole_writer"] = {
        "styles": list(WRITER),
        "taught": len(ty),
        "error_before": before,
        "error_after": after,
        "mnist": acc,
        "seconds": times,
        "median_seconds": statistics.median(times),
        "deterministic": same,
    }
    lines.append("")
    lines.append(
        f"Whole writer ({', '.join(WRITER)}), {len(ty)} examples taught: error on their {len(vy)} other samples "
        f"{before:.1%} -> {after:.1%}; MNIST test {acc:.2%} ({(acc - base_mnist) * 100:+.2f} points); "
        f"{statistics.median(times):.2f} s in CPython on one thread (median of {len(times)}: "
        f"{', '.join(f'{t:.2f}' for t in times)}); same rng, same bits: {same}"
    )
    print("\n".join(lines))
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "personalize_bench.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
