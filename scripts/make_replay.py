#!/usr/bin/env python3
"""Write engine/replay.npz: the replay set ``engine.personalize`` mixes into a writer's examples.

    python scripts/make_replay.py [--per-digit 50] [--negatives 100] [--seed 16] [--out engine/replay.npz]

Holds ``--per-digit`` MNIST *training* digits of each class (never test digits, so the
benchmarks' MNIST test accuracy stays honest), drawn at random with ``--seed``, and
``--negatives`` "not a digit" images from ``digits.negatives`` (training fonts, scribbles,
fragments of the same training digits ...) labelled 10, which only models with an 11th
output replay. Arrays: ``images`` uint8 (R, 28, 28), ``labels`` int64 (R,); compressed npz,
no pickles. It sits in the engine package so ``personalize`` finds it in CPython and in the
page alike (pyscript.toml lists it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digits import negatives as negs  # noqa: E402
from digits.mnist import load_mnist  # noqa: E402


def build(per_digit: int, negatives: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mnist = load_mnist(log=lambda *a: None)
    x, y = mnist["train_images"], mnist["train_labels"].astype(np.int64)
    picks = np.concatenate([rng.choice(np.flatnonzero(y == d), per_digit, replace=False) for d in range(10)])
    images, labels = [x[picks]], [y[picks]]
    if negatives:
        kinds = dict(negs.DEFAULT_MIX)
        if not negs.fashion_available():
            kinds.pop("fashion")
        images.append(negs.negatives(rng, negatives, kinds, digits=x[rng.permutation(len(x))[:5000]]))
        labels.append(np.full(negatives, 10, np.int64))
    order = rng.permutation(sum(len(a) for a in labels))
    return np.concatenate(images)[order], np.concatenate(labels)[order]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-digit", type=int, default=50)
    parser.add_argument("--negatives", type=int, default=100)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--out", type=Path, default=ROOT / "engine" / "replay.npz")
    args = parser.parse_args(argv)
    images, labels = build(args.per_digit, args.negatives, args.seed)
    np.savez_compressed(args.out, images=images, labels=labels)
    counts = np.bincount(labels, minlength=11).tolist()
    print(f"{args.out}: {len(labels)} images (per label 0..10: {counts}), {args.out.stat().st_size / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
