"""Handwritten numbers composed from digit images: uneven gaps and sizes, a drifting baseline, a slant,
and neighbours pushed together until their ink touches.

``bench/number_bench.py`` measures ``engine.read_number`` on such numbers, and the training mix
draws touching pairs from them as "not a digit" (``negatives.pairs``): two digits pressed together
are what the reader must learn to cut, so the model must not read them as one digit.
Application code: CPython with NumPy; the engine never imports it.
"""

from dataclasses import dataclass

import numpy as np

from engine.preprocess import resize_area

INK = 0.3  # what counts as ink when pushing digits together (MNIST grey levels, 0..1)


def ink_crops(images: np.ndarray) -> list[np.ndarray]:
    """MNIST 28x28 uint8 digits -> float crops to their ink, in [0, 1]."""
    out = []
    for img in images:
        x = img.astype(np.float32) / 255
        rows, cols = np.flatnonzero(x.max(axis=1) > 0), np.flatnonzero(x.max(axis=0) > 0)
        out.append(x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    return out


def scaled(crop: np.ndarray, height: float) -> np.ndarray:
    """A crop resized (box filter) to ``height`` rows, keeping its aspect ratio."""
    h, w = crop.shape
    f = height / h
    out = resize_area(crop, max(1, round(h * f)), max(1, round(w * f)))
    return np.clip(out / max(float(out.max()), 1e-6), 0, 1)


def _row_extents(glyph: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: first and last ink column (-1 where the row has none)."""
    ink = glyph > INK
    has = ink.any(axis=1)
    left = np.where(has, ink.argmax(axis=1), -1)
    right = np.where(has, glyph.shape[1] - 1 - ink[:, ::-1].argmax(axis=1), -1)
    return left, right


@dataclass(frozen=True)
class Composed:
    """A composed number: the image (float32, ink bright on dark), which digit drew each pixel
    (-1 for none; where two overlap, the brighter), and each digit's ink box (x0, y0, x1, y1)."""

    image: np.ndarray
    owner: np.ndarray
    boxes: list[tuple[int, int, int, int]]


def compose(
    rng: np.random.Generator,
    glyphs: list[np.ndarray],
    touch: float,
    height: float,
    slant: float = 0.14,
    drift: float = 0.06,
) -> Composed:
    """Lay glyphs (crops, ink bright) out as one handwritten number.

    Each glyph is scaled to ``height`` +-20%, sits on a baseline that drifts (slope up to ``drift``)
    and jitters; gaps are 0.08..0.6 x height; with probability ``touch`` a neighbour pair is pushed
    together until their ink overlaps by 1-3 px (of a 20-px MNIST digit, so scaled with ``height``);
    the whole number is slanted by up to ``slant`` (shear); margins are ~0.3 x height.
    """
    sized = [scaled(g, height * rng.uniform(0.8, 1.2)) for g in glyphs]
    slope = rng.uniform(-drift, drift)
    placed: list[tuple[int, int]] = []  # (x, y) of each glyph's top-left corner
    for i, g in enumerate(sized):
        right = placed[-1][0] + sized[i - 1].shape[1] if i else 0
        y = int(round(slope * right + rng.normal(0, 0.04) * height - g.shape[0]))
        if i == 0:
            x = 0
        elif rng.random() < touch:
            overlap = max(1, int(round(rng.integers(1, 4) * height / 20)))
            x = touching_x(sized[i - 1], *placed[-1], g, y, overlap)
        else:
            x = right + int(round(rng.uniform(0.08, 0.6) * height))
        placed.append((x, y))
    left = min(x for x, _ in placed)  # a narrow digit pushed into a wide one can start left of it
    placed = [(x - left, y) for x, y in placed]
    margin = int(round(0.3 * height)) + 2
    top = min(y for _, y in placed)
    bottom = max(y + g.shape[0] for (_, y), g in zip(placed, sized))
    right = max(x + g.shape[1] for (x, _), g in zip(placed, sized))
    canvas = np.zeros((bottom - top + 2 * margin, right + 2 * margin), np.float32)
    owner = np.full(canvas.shape, -1, np.int64)
    for k, ((x, y), g) in enumerate(zip(placed, sized)):
        cx, cy = x + margin, y - top + margin
        region = canvas[cy : cy + g.shape[0], cx : cx + g.shape[1]]
        owner[cy : cy + g.shape[0], cx : cx + g.shape[1]][(g > 0.1) & (g > region)] = k
        np.maximum(region, g, out=region)
    shear = rng.uniform(-slant, slant)
    image, owner = sheared(canvas, shear), sheared(owner, shear, fill=-1)
    boxes = []
    for k in range(len(sized)):
        ys, xs = np.nonzero(owner == k)
        boxes.append((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    return Composed(image, owner, boxes)


def touching_x(prev: np.ndarray, px: int, py: int, g: np.ndarray, y: int, overlap: int) -> int:
    """x of glyph ``g`` (top at ``y``) so that its ink overlaps ``prev``'s (at px, py) by ``overlap`` px."""
    pl, pr = _row_extents(prev)
    gl, _ = _row_extents(g)
    lo, hi = max(py, y), min(py + prev.shape[0], y + g.shape[0])
    best = None
    for row in range(lo, hi):
        a, b = pr[row - py], gl[row - y]
        if a >= 0 and b >= 0:
            x = px + a + 1 - overlap - b  # g's first ink column lands ``overlap`` px inside prev's last
            best = x if best is None else max(best, x)
    if best is None:  # no common ink row: boxes touch instead
        best = px + prev.shape[1] - overlap
    return best


def sheared(img: np.ndarray, shear: float, fill=0) -> np.ndarray:
    """Shift each row by shear x (distance from the middle row): a slant, the canvas widened to fit."""
    h, w = img.shape
    shifts = np.round(shear * (np.arange(h) - h / 2)).astype(int)
    shifts -= shifts.min()
    out = np.full((h, w + int(shifts.max())), fill, img.dtype)
    for r in range(h):
        out[r, shifts[r] : shifts[r] + w] = img[r]
    return out
