"""Checking and converting the images users hand to a model."""

import numpy as np

from .errors import InputShapeError

IMAGE_SIDE = 28


def numeric_array(values, message: str) -> np.ndarray:
    """``values`` as an array of real numbers (bool, integer or float), or InputShapeError("<message>, got ...").

    Complex numbers, dates, time spans, strings and objects are refused, and so are nested
    lists NumPy cannot make an array of (rows of different lengths).
    """
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError, OverflowError):
        raise InputShapeError(
            f"{message}, got a {type(values).__name__} that is not a rectangular array of "
            "numbers (ragged: rows of different lengths?)"
        ) from None
    if arr.dtype.kind not in "biuf":  # bool, signed, unsigned, float: not complex, timedelta, datetime, object
        raise InputShapeError(f"{message}, got dtype {arr.dtype}")
    return arr


def finite_float32(arr: np.ndarray, message: str) -> np.ndarray:
    """float32 copy of ``arr``; InputShapeError(message) if any value is NaN or infinite,
    InputShapeError naming float32 if a value is too large for it (instead of NumPy's overflow warning)."""
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise InputShapeError(message)
    with np.errstate(over="ignore"):
        out = arr.astype(np.float32)
    if not np.all(np.isfinite(out)):
        peak = np.format_float_scientific(np.abs(arr).max(), precision=2)
        raise InputShapeError(
            f"values up to {peak} do not fit in float32 (at most 3.4e38); give pixels as uint8 0..255 or float 0..1"
        )
    return out


def unit_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 0..1, the one conversion every part of the project uses."""
    return pixels.astype(np.float32) / np.float32(255)


def as_image_batch(images) -> np.ndarray:
    """(28,28) or (N,28,28), uint8 0..255 or float 0..1 (ink bright on dark) -> float32 (N,28,28) in [0,1].

    Raises InputShapeError naming the problem for any other shape, dtype or range.
    """
    arr = numeric_array(images, "images must be a numeric array")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise InputShapeError(
            f"images must have shape (28, 28) or (N, 28, 28), got {np.shape(images)}; "
            "use engine.preprocess() to bring any drawing to 28x28"
        )
    if arr.dtype == np.uint8:
        return unit_float(arr)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        raise InputShapeError(f"integer images must be uint8 (0..255), got {arr.dtype}")
    out = finite_float32(arr, "images contain NaN or infinite values")
    if out.size and (out.min() < 0.0 or out.max() > 1.0):
        raise InputShapeError(
            f"float images must lie in [0, 1], got values in [{out.min()}, {out.max()}]; divide uint8 pixels by 255"
        )
    return out
