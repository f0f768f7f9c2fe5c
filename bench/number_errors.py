"""Where ``engine.read_number`` goes wrong on composed numbers, by category.

    python bench/number_errors.py [--numbers 400] [--touch 0.2] [--test]

Numbers are composed from MNIST digits the model never trained on (``number_bench.held_out``,
the validation half; ``--test`` for the test
digits, to report once) exactly as ``number_bench.py`` composes them. Each wrongly read number is
put in the first category that explains it, comparing the glyphs the reader chose with the digit
that drew each pixel:

- misread: every digit is one glyph of its own, and some glyph reads another digit
- refused: as misread, but the wrong glyphs are only refusals of glyphs read right without rejection
- missed split: one glyph holds most of two digits whose ink touches (a group left whole)
- merged apart: one glyph holds most of two digits that were separate groups (merged by the covering)
- wrong split: a digit's ink is spread over glyphs the reader cut (cut too often or in the wrong place)
- pieces apart: a digit drawn in pieces (several groups) left as several glyphs
- other: a digit lost, a speck read as a digit ...
"""

import argparse
from collections import Counter

import numpy as np

from common import machine, machine_line

import engine
from digits.cpu_runtime import engine_threads
from digits.mnist import load_mnist
from engine import number_reader as reader
from number_bench import _owned, held_out, random_numbers

MOST = 0.5  # a glyph holds most of a digit with this share of its ink
OWN_SHARE = 0.15  # a glyph holds a piece of a digit with this share


def categorize(model, c, text: str) -> str:
    """The category of one number's reading: "right" or one of the module docstring's."""
    pg = reader.page(c.image)
    if pg is None:
        return "other"
    images: dict = {}
    glyphs = reader.read_glyphs(pg, reader.model_classifier(model, images))
    logits = np.stack([lg for _, lg in glyphs])
    refused = reader._rejected(model, np.stack([images[g.parts] for g, _ in glyphs]), logits)
    labels = logits[:, :10].argmax(axis=1)
    if engine.read_number(model, c.image).text == text:
        return "right"
    n = len(text)
    owned = np.array([_owned(pg, c, g, n) for g, _ in glyphs])  # (glyphs, digits)
    total = np.maximum(owned.sum(axis=0), 1)
    most = owned >= MOST * total  # glyph k holds most of digit d
    for k, (g, _) in enumerate(glyphs):
        if most[k].sum() >= 2:
            return "missed split" if len(g.parts) == 1 else "merged apart"
    holds = owned >= OWN_SHARE * total
    for d in range(n):
        split = np.flatnonzero(holds[:, d])
        if len(split) >= 2 or not most[:, d].any():
            cut = any(glyphs[k][0].cut_left or glyphs[k][0].cut_right for k in split)
            return "wrong split" if cut else "pieces apart"
    main = owned.argmax(axis=1)
    if len(glyphs) != n or list(main) != list(range(n)) or not holds[np.arange(n), np.arange(n)].all():
        return "other"
    wrong = labels != np.array([int(t) for t in text])
    if wrong.any():
        return "misread"
    return "refused" if refused.any() else "other"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numbers", type=int, default=400)
    ap.add_argument("--touch", type=float, default=0.2)
    ap.add_argument("--lengths", default="4", help="digits per number: 4, or a range 3-8")
    ap.add_argument("--test", action="store_true", help="MNIST test digits (report once) instead of held-out ones")
    args = ap.parse_args()
    print(f"Machine: {machine_line(machine())}")
    mnist = load_mnist(log=lambda m: None)
    model = engine.load_model("models/mnist_int8.npz")
    if args.test:
        x, y = mnist["test_images"], mnist["test_labels"]
    else:
        x, y = held_out(mnist, "validate")
    lo, _, hi = args.lengths.partition("-")
    lengths = range(int(lo), int(hi or lo) + 1)
    samples = random_numbers(np.random.default_rng(7), x, y, args.numbers, lengths, args.touch)
    with engine_threads(1):
        counts = Counter(categorize(model, c, text) for c, text in samples)
    for name, k in counts.most_common():
        print(f"{name:14s} {k:4d}  {k / len(samples):.1%}")


if __name__ == "__main__":
    main()
