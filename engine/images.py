"""Checking and converting the images users hand to a model."""

import numpy as np

from .errors import InputShapeError

IMAGE_SIDE = 28


def numeric_array(values, message: str) -> np.ndarray:
    """``values`` as an array, or InputShapeError("<message>, got dtype ...") if it is not numbers."""
    arr = np.asarray(values)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputShapeError(f"{message}, got dtype {arr.dtype}")
    return arr


def finite_float32(arr: np.ndarray, message: str) -> np.ndarray:
    """float32 copy of ``arr``; InputShapeError(message) if any value is NaN or infinite."""
    out = arr.astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise InputShapeError(message)
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
        raise InputShapeError(f"images must have shape (28, 28) or (N, 28, 28), got {np.shape(images)}; "
                              "use engine.preprocess() to bring any drawing to 28x28")
    if arr.dtype == np.uint8:
        return unit_float(arr)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        raise InputShapeError(f"integer images must be uint8 (0..255), got {arr.dtype}")
    out = finite_float32(arr, "images contain NaN or infinite values")
    if out.size and (out.min() < 0.0 or out.max() > 1.0):
        raise InputShapeError(f"float images must lie in [0, 1], got values in [{out.min()}, {out.max()}]; "
                              "divide uint8 pixels by 255")
    return out
