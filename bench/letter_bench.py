"""Letters drawn on the pad, read by ``engine.read_number``: how many are refused, and digits kept.

    python bench/letter_bench.py [--half tune|held_out|both] [--model models/mnist_int8.npz]

The CPython twin of tests/browser/test_letters_on_pad.py, on more drawings: the issue's target
letters (tests/letter_samples.py: 23 letters, one to three ways of printing each, every sample
its own width, slant, size and place), drawn with the page's pen for the model's input. A
letter is refused when no glyph of its reading is a digit (the page then shows nothing).
Beside them, the cost: the share of the drawn-digit test set (tests/strokes/styles, one digit
each, drawn with the same pen) that read_number reads as exactly its digit. Reader settings
may be chosen on ``--half tune``; ``held_out`` is for the report.
"""

import argparse
import sys
from collections import Counter

import numpy as np

from common import ROOT, machine, machine_line

sys.path.insert(0, str(ROOT / "tests"))
import engine  # noqa: E402
import letter_samples  # noqa: E402
import stroke_files  # noqa: E402
from digits.cpu_runtime import engine_threads  # noqa: E402


def refused(reading) -> bool:
    return not any(d.label is not None for d in reading.digits)


def letter_figures(model, samples) -> dict:
    """Share refused, per letter, and what the others read as."""
    per: dict[str, list[bool]] = {}
    read = Counter()
    for s in samples:
        r = engine.read_number(model, letter_samples.gray(s))
        per.setdefault(s.style, []).append(refused(r))
        if not refused(r):
            read[f"{s.style}:{r.text}"] += 1
    flat = [x for v in per.values() for x in v]
    return {
        "n": len(flat),
        "refused": float(np.mean(flat)),
        "per_letter": {k: float(np.mean(v)) for k, v in per.items()},
        "read": dict(read.most_common()),
    }


def digit_figures(model) -> dict:
    """Share of the drawn-digit styles read_number reads as exactly their digit, and what the rest read."""
    right, wrong = 0, Counter()
    samples = [s for group in stroke_files.load_styles().values() for s in group]
    for s in samples:
        text = engine.read_number(model, stroke_files.render(s, live=False, pen=stroke_files.ink_pen(s))).text
        if text == str(s.label):
            right += 1
        else:
            wrong[f"{s.style}:{text}"] += 1
    return {"n": len(samples), "kept": right / len(samples), "wrong": dict(wrong.most_common())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", default="tune", choices=("tune", "held_out", "both"))
    ap.add_argument("--model", default=str(ROOT / "models" / "mnist_int8.npz"))
    ap.add_argument("--no-digits", action="store_true", help="skip the drawn digits")
    args = ap.parse_args()
    print(f"Machine: {machine_line(machine())}")
    model = engine.load_model(args.model)
    halves = ("tune", "held_out") if args.half == "both" else (args.half,)
    with engine_threads(1):
        pad = letter_figures(model, letter_samples.pad_letters())
        print(f"pad test's letters (23 at 60%): {pad['refused']:.1%} refused; read: {pad['read']}")
        for half in halves:
            f = letter_figures(model, letter_samples.samples(half))
            print(f"letters, {half} ({f['n']}): {f['refused']:.1%} refused")
            print("  per letter: " + ", ".join(f"{k} {v:.0%}" for k, v in f["per_letter"].items()))
            print(f"  read as digits: {f['read']}")
        if not args.no_digits:
            d = digit_figures(model)
            print(f"drawn digits ({d['n']}): {d['kept']:.1%} read as their digit; wrong: {d['wrong']}")


if __name__ == "__main__":
    main()
