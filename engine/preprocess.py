"""Turning any drawing or scan of a digit into an MNIST-like 28x28 image.

MNIST digits were made by fitting each digit into a 20x20 box (keeping its
aspect ratio, with anti-aliasing) and placing that box in a 28x28 field so the
centre of mass sits at the centre. ``preprocess`` does the same to any 2-D
grayscale image with bright ink on a dark background, and first thickens thin
strokes (a 1-pixel line drawn on a big canvas) to MNIST's relative stroke
width, because a model trained on MNIST has never seen hairlines.

The page and the command line both call this one function, so what the model
sees is the same everywhere.
"""

import functools
import numbers
from typing import Any

import numpy as np

from .errors import InputShapeError
from .images import finite_float32, numeric_array

PREPROCESSING: dict[str, Any] = {
    "method": "mnist-box20-com28",  # fit into 20x20, centre of mass at (14, 14) in 28x28
    "input": "grayscale, ink bright on dark, uint8 0..255 or float 0..1",
    "box": 20,
    "size": 28,
    "center_of_mass": [14.0, 14.0],  # measured on MNIST's training images: (13.99, 14.00)
    "stroke_ratio": 0.12,  # stroke width / longer side; MNIST: median 0.17, 25th pct 0.15, so MNIST digits pass almost unchanged
}
MAX_SIDE = 8192  # larger inputs are refused rather than processed for seconds
MAX_STROKE_RATIO = 1.0  # a stroke as wide as the digit: any more would only pad the image for nothing
WORK_SIDE = 96  # crops are reduced to at most this before the morphology
INK_THRESHOLD = 0.2  # relative to the brightest pixel: fainter is background noise
# ink_on_dark: a small digit on a large sheet is under 0.5% of the pixels, so the 99.5th percentile
# is paper; then the strongest ink is measured on the pixels at least this far above the paper
# (a faint smudge or soft shadow stays below it), if there are at least MIN_INK_PIXELS of them.
CLEAR_INK = 64 / 255
MIN_INK_PIXELS = 20


def _area_resize_matrix(src: int, dst: int) -> np.ndarray:
    """(dst, src) matrix averaging source pixels over each destination pixel's footprint (box filter).

    Each destination pixel covers src/dst source pixels; weights are the overlap
    lengths, so downscaling is anti-aliased and upscaling is linear-ish.
    """
    edges = np.linspace(0, src, dst + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    pix = np.arange(src)[None, :]
    overlap = np.clip(np.minimum(hi, pix + 1) - np.maximum(lo, pix), 0, None)
    return (overlap / overlap.sum(axis=1, keepdims=True)).astype(np.float32)


@functools.lru_cache(maxsize=256)
def _area_taps(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero band of ``_area_resize_matrix(src, dst)``: (dst, width) source indices and weights."""
    m = _area_resize_matrix(src, dst)
    nonzero = m > 0
    first = nonzero.argmax(axis=1)
    last = src - 1 - nonzero[:, ::-1].argmax(axis=1)
    idx = first[:, None] + np.arange(int((last - first).max()) + 1)
    valid = idx < src
    idx = np.minimum(idx, src - 1)
    weights = np.where(valid, np.take_along_axis(m, idx, axis=1), np.float32(0)).astype(np.float32)
    idx.flags.writeable = weights.flags.writeable = False  # cached: shared by every call
    return idx, weights


def resize_area(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D image to (height, width) with box-filter anti-aliasing.

    Each output pixel mixes only the few source pixels under its footprint, so
    the resampling matrices are banded; summing those few taps directly is ~20x
    faster than the dense matrix products in Pyodide (no BLAS there) and faster
    in CPython too, and gives the same result on both.
    """
    ri, rw = _area_taps(img.shape[0], height)
    ci, cw = _area_taps(img.shape[1], width)
    rows = rw[:, 0, None] * img[ri[:, 0]]  # (height, W)
    for t in range(1, ri.shape[1]):
        rows += rw[:, t, None] * img[ri[:, t]]
    out = rows[:, ci[:, 0]] * cw[:, 0]  # (height, width)
    for t in range(1, ci.shape[1]):
        out += rows[:, ci[:, t]] * cw[:, t]
    return out


def _dilate_once(img: np.ndarray, cross: bool) -> np.ndarray:
    """Grey dilation by a 3x3 square, or a plus shape; alternating them approximates a disk."""
    p = np.pad(img, 1)
    out = img.copy()
    shifts = [(0, 1), (2, 1), (1, 0), (1, 2)] + ([] if cross else [(0, 0), (0, 2), (2, 0), (2, 2)])
    for dy, dx in shifts:
        np.maximum(out, p[dy : dy + img.shape[0], dx : dx + img.shape[1]], out=out)
    return out


def stroke_width(ink: np.ndarray) -> float:
    """Estimated stroke width in pixels: ink area over half the ink's boundary length."""
    mask = ink > INK_THRESHOLD
    area = mask.sum()
    if area == 0:
        return 0.0
    p = np.pad(mask, 1)
    interior = p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:] & mask
    boundary = area - interior.sum()
    return float(area / max(boundary / 2.0, 1.0))


def _crop_to_ink(img: np.ndarray) -> np.ndarray:
    """The bounding box of the pixels brighter than INK_THRESHOLD (the image has some)."""
    ink = img > INK_THRESHOLD
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _as_gray(gray, name: str) -> np.ndarray:
    """``gray`` as float32 in [0, 1]; InputShapeError naming ``name`` (the public function) otherwise."""
    arr = numeric_array(gray, f"{name} needs a numeric 2-D grayscale array (bool, integer or float)")
    if arr.ndim != 2:
        raise InputShapeError(
            f"{name} needs a 2-D grayscale image (height, width), got shape {arr.shape}; "
            "convert colour images to grayscale first"
        )
    if min(arr.shape) < 1:
        raise InputShapeError(
            f"{name} needs a 2-D grayscale image with at least one pixel, got the empty shape {arr.shape}"
        )
    if max(arr.shape) > MAX_SIDE:
        raise InputShapeError(
            f"{name}: image of {arr.shape[1]}x{arr.shape[0]} pixels is larger than "
            f"{MAX_SIDE} on a side; scale it down first"
        )
    out = finite_float32(arr, f"{name}: image contains NaN or infinite values")
    if out.min() < 0:
        raise InputShapeError(
            f"{name}: pixel values must be >= 0 (ink bright on dark, 0..255 or 0..1), got {out.min()}"
        )
    if arr.dtype == np.uint8 or out.max() > 1.0:
        out /= 255.0 if out.max() <= 255.0 else out.max()
    return out


def _border_median(img: np.ndarray) -> float:
    """Median of a frame ~5% wide around the picture: the paper's brightness."""
    b = max(1, min(img.shape) // 20)
    frame = np.concatenate([img[:b].ravel(), img[-b:].ravel(), img[:, :b].ravel(), img[:, -b:].ravel()])
    return float(np.median(frame))


def ink_on_dark(gray) -> np.ndarray:
    """A photo or scan of a digit (any polarity) -> float32 ink bright on black, in [0, 1].

    Paper fills the edges of a photo, so a light border means dark ink on light
    paper, which is inverted. Then the paper level and the weakest quarter of the
    range above it map to 0 and the strongest ink (99.5th percentile; for a small digit
    on a large sheet, the 90th of the pixels clearly darker than paper) to 1, so
    paper texture and shading do not read as ink. A picture with almost no
    contrast has no ink: all zeros. The page and ``python -m engine predict``
    both use this.
    """
    img = _as_gray(gray, "ink_on_dark")
    if _border_median(img) > 0.5:
        img = 1.0 - img
    paper = _border_median(img)
    strong = float(np.percentile(img, 99.5))
    if strong - paper < 24 / 255:  # under 0.5% of the picture is ink, if any
        clear = img[img > paper + CLEAR_INK]
        if clear.size < MIN_INK_PIXELS:  # flat picture: no ink to find
            return np.zeros(img.shape, np.float32)
        strong = float(np.percentile(clear, 90))
    low = paper + 0.25 * (strong - paper)  # paper noise stays black
    return np.clip((img - low) / (strong - low), 0.0, 1.0).astype(np.float32)


def preprocess(gray, stroke_ratio: float | None = None) -> np.ndarray:
    """Any-size 2-D grayscale (ink bright on dark) -> (28, 28) float32 in [0, 1], normalized like MNIST.

    An image with no ink gives all zeros. ``stroke_ratio`` overrides the target
    stroke width relative to the digit's longer side, from 0 (thickening off) to 1.
    """
    if stroke_ratio is not None and (
        isinstance(stroke_ratio, bool)
        or not isinstance(stroke_ratio, numbers.Real)
        or not 0.0 <= stroke_ratio <= MAX_STROKE_RATIO
    ):
        raise InputShapeError(
            f"stroke_ratio must be a number from 0 to {MAX_STROKE_RATIO} (stroke width over the "
            f"digit's longer side; MNIST's median is 0.17), got {stroke_ratio!r}"
        )
    img = _as_gray(gray, "preprocess")
    size, box = PREPROCESSING["size"], PREPROCESSING["box"]
    peak = float(img.max())
    if peak <= 0.05:
        return np.zeros((size, size), np.float32)
    img = img / peak
    img = _crop_to_ink(img)
    long_side = max(img.shape)
    if long_side > WORK_SIDE:  # bound the work for huge scans
        f = WORK_SIDE / long_side
        img = resize_area(img, max(1, round(img.shape[0] * f)), max(1, round(img.shape[1] * f)))
        img /= max(float(img.max()), 1e-6)
        long_side = max(img.shape)
    target = (PREPROCESSING["stroke_ratio"] if stroke_ratio is None else stroke_ratio) * long_side
    if target > 0:
        margin = int(np.ceil(target))
        img = np.pad(img, margin)  # room to grow at the edges
        for step in range(long_side // 4):  # each pass adds ~2 px of width
            if stroke_width(img) >= target:
                break
            img = _dilate_once(img, cross=step % 2 == 1)
        img = _crop_to_ink(img)
    h, w = img.shape
    scale = box / max(h, w)
    fitted = resize_area(img, max(1, round(h * scale)), max(1, round(w * scale)))
    fitted = np.clip(fitted / max(float(fitted.max()), 1e-6), 0.0, 1.0)
    # Centre of mass to (14, 14): place the box in a larger field, then cut 28x28 around the mass.
    ys, xs = np.indices(fitted.shape)
    mass = fitted.sum()
    com_y, com_x = (ys * fitted).sum() / mass, (xs * fitted).sum() / mass
    cy, cx = PREPROCESSING["center_of_mass"]
    top, left = int(round(cy - com_y)), int(round(cx - com_x))
    out = np.zeros((size, size), np.float32)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + fitted.shape[0], size), min(left + fitted.shape[1], size)
    out[y0:y1, x0:x1] = fitted[y0 - top : y1 - top, x0 - left : x1 - left]
    return out
