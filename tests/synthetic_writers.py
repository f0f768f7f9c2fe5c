"""Synthetic writers whose style the shipped model misreads: what ``engine.personalize`` must fix.

Each writer draws one digit in one quirk (with the natural variation of ``digits.styles.render``:
slant, size, stroke width, wobble) and also writes the digit that quirk is mistaken for, plainly;
teaching the quirk must not turn those into the quirk's label. Used by tests/test_personalize.py
and bench/personalize_bench.py (the stroke-file writers, tests/strokes/styles/, are the shipped
model's near misses; these are its clear misses).

- long-flag 1: 1s whose flag is long (40-55% of the height) and flat (10-30 degrees below the
  horizontal), which read as 7; their plain 7s must stay 7s.
- flat-slash 0: zeros crossed by a long, nearly flat slash (12-32 degrees, like a theta), which read
  as 8 or as "not a digit"; their plain 8s must stay 8s.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from digits import styles


def long_flag_one(rng: np.random.Generator) -> list:
    top, _, stem = styles._one_stem(rng)
    return [[styles._flag(rng, top, (0.4, 0.55), (10, 30)), stem]]


def flat_slash_zero(rng: np.random.Generator) -> list:
    oval, rx, ry = styles._oval(rng)
    a = np.deg2rad(rng.uniform(12.0, 32.0)) * (1 if rng.random() < 0.7 else -1)
    d = np.array([np.cos(a), -np.sin(a)])
    reach = 1.0 / np.hypot(d[0] / rx, d[1] / ry)  # the oval's radius along the slash
    lo, hi = reach * rng.uniform(1.2, 1.6), reach * rng.uniform(1.2, 1.6)
    return [oval, [styles._pts(*(-lo * d), *(hi * d))]]


@dataclass(frozen=True)
class Writer:
    label: int  # what the quirk is
    quirk: Callable[[np.random.Generator], list]  # its strokes
    mistaken_for: int  # the digit the shipped model reads it as, which the writer also writes plainly
    plain: Callable[[np.random.Generator], list]
    seed: int

    def samples(self, quirks: int = 40, plains: int = 20) -> tuple[np.ndarray, np.ndarray]:
        """(quirky digits (quirks, 28, 28) uint8, plain digits of ``mistaken_for`` (plains, 28, 28) uint8)."""
        rng = np.random.default_rng(self.seed)
        quirky = np.stack([styles.render(rng, self.quirk(rng)) for _ in range(quirks)])
        plain = np.stack([styles.render(rng, self.plain(rng)) for _ in range(plains)])
        return quirky, plain


WRITERS = {
    "long-flag 1": Writer(1, long_flag_one, 7, styles.seven_plain, seed=16),
    "flat-slash 0": Writer(0, flat_slash_zero, 8, styles.eight_plain, seed=7),
}
