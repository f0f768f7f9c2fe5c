"""Hand-printed letters the reader must refuse (issue 14's target letters), drawn as the pad draws them.

The issue's "letters of shapes that cannot pass for a digit" (A E F H K M N P R W X Y and
a c e f h k m n r w x), each in one to three ways people print it (the strokes of
tests/browser/letter_strokes.py and others: an A in three strokes, an E in four, a one-stroke
R or a, a round-bottomed W ...). Every sample gets its own width, slant, rotation, wobble,
size on the pad and place, and is densified like a mouse's pointer events, then rendered
with the page's pen for the model's input (``stroke_files.ink_pen``: it follows the writing's
height) on the 280-px ink canvas, each stroke's path once (the page's ``renderInk``).

Samples alternate between two halves: ``half="tune"`` (even indices) is what reader settings
may be chosen on; ``half="held_out"`` (odd) is for the report only. Deterministic (fixed seed).
NumPy and the standard library only; shares no code with the training negatives (printed fonts).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
import letter_strokes  # noqa: E402  (the pad test's letters, one way of each)

from stroke_files import INK_SIZE, Sample, ink_pen, render  # noqa: E402

SEED = 20261214
PER_LETTER = 16  # samples per letter, half of them held out
SIZE_RANGE = (0.3, 0.85)  # the letter's cell, as a share of the pad's height
WIDTH_RANGE = (0.75, 1.3)  # horizontal stretch
SLANT_RANGE = (-0.3, 0.3)  # shear: x moves by this times the height above the middle
STEP = 0.01  # densify: a point at least every this much of the cell (pagekit.densify)

arc = letter_strokes.arc

# Other ways of printing the letters (unit square, y down), beside letter_strokes.LETTERS.
VARIANTS = {
    "A": [
        [[(0.25, 0.85), (0.5, 0.15)], [(0.5, 0.15), (0.75, 0.85)], [(0.33, 0.6), (0.67, 0.6)]],
        [[(0.22, 0.85), (0.42, 0.2), (0.5, 0.15), (0.58, 0.2), (0.78, 0.85)], [(0.3, 0.55), (0.72, 0.58)]],
    ],
    "E": [
        [[(0.3, 0.15), (0.3, 0.85)], [(0.3, 0.15), (0.7, 0.15)], [(0.3, 0.5), (0.62, 0.5)], [(0.3, 0.85), (0.72, 0.85)]]
    ],
    "F": [[[(0.3, 0.15), (0.3, 0.85)], [(0.3, 0.15), (0.72, 0.15)], [(0.3, 0.48), (0.62, 0.48)]]],
    "H": [[[(0.28, 0.15), (0.28, 0.85)], [(0.28, 0.52), (0.72, 0.48)], [(0.72, 0.15), (0.72, 0.85)]]],
    "K": [[[(0.3, 0.15), (0.3, 0.85)], [(0.72, 0.15), (0.32, 0.52), (0.74, 0.85)]]],
    "M": [[[(0.2, 0.85), (0.2, 0.15)], [(0.2, 0.15), (0.5, 0.55), (0.8, 0.15)], [(0.8, 0.15), (0.8, 0.85)]]],
    "N": [[[(0.28, 0.85), (0.28, 0.15)], [(0.28, 0.15), (0.72, 0.85)], [(0.72, 0.85), (0.72, 0.15)]]],
    "P": [[[(0.32, 0.85), (0.32, 0.15)] + arc(0.42, 0.33, 0.26, 0.18, 90, -90)[1:] + [(0.32, 0.51)]]],
    "R": [[[(0.32, 0.85), (0.32, 0.15)] + arc(0.42, 0.32, 0.25, 0.17, 90, -90)[1:] + [(0.34, 0.49), (0.72, 0.85)]]],
    "W": [[[(0.15, 0.15), (0.3, 0.85), (0.5, 0.3)], [(0.5, 0.3), (0.7, 0.85), (0.85, 0.15)]]],
    "X": [[[(0.72, 0.15), (0.28, 0.85)], [(0.28, 0.15), (0.72, 0.85)]]],
    "Y": [[[(0.28, 0.15), (0.5, 0.5)], [(0.72, 0.15), (0.5, 0.5)], [(0.5, 0.5), (0.5, 0.85)]]],
    "a": [[arc(0.47, 0.63, 0.2, 0.2, 20, 380) + [(0.67, 0.85)]]],
    "c": [[arc(0.52, 0.63, 0.2, 0.22, 60, 300)]],
    "e": [[[(0.28, 0.62), (0.7, 0.6)] + arc(0.5, 0.63, 0.21, 0.21, 20, 330)[1:]]],
    "f": [[[(0.66, 0.2), (0.5, 0.15), (0.44, 0.3), (0.44, 0.85)], [(0.28, 0.45), (0.62, 0.45)]]],
    "h": [[[(0.32, 0.15), (0.32, 0.85)] + [(0.32, 0.7)] + arc(0.5, 0.62, 0.18, 0.16, 170, 0)[1:] + [(0.68, 0.85)]]],
    "k": [[[(0.32, 0.15), (0.32, 0.85)], [(0.64, 0.45), (0.33, 0.67), (0.68, 0.85)]]],
    "m": [
        [
            [(0.18, 0.45), (0.18, 0.85), (0.18, 0.62)]
            + arc(0.33, 0.6, 0.15, 0.13, 180, 0)[1:]
            + [(0.48, 0.85), (0.48, 0.62)]
            + arc(0.64, 0.6, 0.16, 0.13, 180, 0)[1:]
            + [(0.8, 0.85)]
        ]
    ],
    "n": [[[(0.3, 0.45), (0.3, 0.85), (0.3, 0.62)] + arc(0.5, 0.62, 0.2, 0.16, 180, 0)[1:] + [(0.7, 0.85)]]],
    "r": [[[(0.36, 0.45), (0.36, 0.85), (0.36, 0.62)] + arc(0.52, 0.6, 0.16, 0.13, 180, 40)[1:]]],
    "w": [[[(0.15, 0.42), (0.3, 0.85), (0.5, 0.5), (0.7, 0.85), (0.85, 0.42)]]],
    "x": [[[(0.3, 0.42), (0.7, 0.85)], [(0.3, 0.85), (0.7, 0.42)]]],
}


def styles(letter: str) -> list[list[list[tuple[float, float]]]]:
    """Every way of printing ``letter``: the pad test's first, then VARIANTS."""
    return [letter_strokes.LETTERS[letter], *VARIANTS.get(letter, [])]


def _densify(stroke: np.ndarray, step: float) -> np.ndarray:
    out = [stroke[:1]]
    for a, b in zip(stroke[:-1], stroke[1:]):
        n = max(1, int(np.hypot(*(b - a)) / step))
        out.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.vstack(out)


def _sample(rng: np.random.Generator, letter: str, strokes, index: int) -> Sample:
    """One drawing of ``strokes``: stretched, slanted, turned, wobbled, sized and placed on the pad."""
    angle = math.radians(rng.uniform(-6, 6))
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    shape = np.array([[rng.uniform(*WIDTH_RANGE), -rng.uniform(*SLANT_RANGE)], [0.0, 1.0]])
    m = rot @ shape
    size = rng.uniform(*SIZE_RANGE) * INK_SIZE
    centre = np.array([INK_SIZE / 2, INK_SIZE / 2]) + rng.uniform(-0.25, 0.25, 2) * (INK_SIZE - size)
    out = []
    for s in strokes:
        p = np.asarray(s, np.float64)
        p = p + rng.normal(0, 0.012, p.shape)  # each key point a little off
        p = (p - 0.5) @ m.T
        p = _densify(p, STEP) * size + centre
        out.append(np.clip(np.round(p, 1), 0, INK_SIZE).tolist())
    sample = Sample(letter, -1, out, INK_SIZE, 1.0, index)
    return Sample(letter, -1, out, INK_SIZE, ink_pen(sample), index)


def samples(half: str, per_letter: int = PER_LETTER, letters: str = letter_strokes.LETTERS) -> list[Sample]:
    """The letters' samples of one half ("tune": even indices, "held_out": odd), letter by letter."""
    if half not in ("tune", "held_out"):
        raise ValueError(f"half must be 'tune' or 'held_out', got {half!r}")
    out = []
    for k, letter in enumerate(letters):
        rng = np.random.default_rng([SEED, k])
        ways = styles(letter)
        for i in range(per_letter):
            s = _sample(rng, letter, ways[i // 2 % len(ways)], i)
            if i % 2 == (half == "held_out"):
                out.append(s)
    return out


def pad_letters(size: float = 0.6) -> list[Sample]:
    """The pad test's drawings: each letter of letter_strokes once, centred at ``size`` of the pad's height."""
    out = []
    for letter, strokes in letter_strokes.LETTERS.items():
        pts = [
            _densify(np.asarray([(0.5 + (x - 0.5) * size, 0.5 + (y - 0.5) * size) for x, y in s]), STEP) * INK_SIZE
            for s in strokes
        ]
        sample = Sample(letter, -1, [p.tolist() for p in pts], INK_SIZE, 1.0, 0)
        out.append(Sample(letter, -1, sample.strokes, INK_SIZE, ink_pen(sample), 0))
    return out


def gray(sample: Sample) -> np.ndarray:
    """What the page hands read_number for this drawing (uint8, ink bright on dark)."""
    return render(sample, live=False)
