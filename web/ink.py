"""Turn what the browser hands over (RGBA pixels) into the grayscale the engine expects.

The engine's ``preprocess`` wants ink bright on dark, 0..255. The drawing pad
already renders white ink on black, so it only needs a channel; a photo or scan
is usually dark ink on light paper, with uneven paper and some noise, so it is
converted to luminance, inverted when its border (the paper) is light, and the
paper level is cut away.

Pure NumPy, no browser objects: tests/test_web_ink.py runs it in CPython.
"""

from __future__ import annotations

import numpy as np

import engine

# ITU-R BT.601 luma weights: what "grayscale" means for MNIST-like scans.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def rgba_array(data: bytes | bytearray | memoryview, width: int, height: int) -> np.ndarray:
    """Raw RGBA bytes (as from ImageData.data) -> (height, width, 4) uint8 view."""
    arr = np.frombuffer(data, dtype=np.uint8)
    if arr.size != width * height * 4:
        raise ValueError(f"expected {width}x{height} RGBA = {width * height * 4} bytes, got {arr.size}")
    return arr.reshape(height, width, 4)


def pad_gray(rgba: np.ndarray) -> np.ndarray:
    """The pad's offscreen canvas (white ink on opaque black) -> (H, W) uint8, ink bright."""
    return np.ascontiguousarray(rgba[..., 0])


def image_gray(rgba: np.ndarray) -> np.ndarray:
    """A decoded photo or scan (RGBA, alpha already composited on white) -> (H, W) uint8, ink bright on dark.

    Luminance here; inversion and paper removal in ``engine.ink_on_dark``, the
    same code ``python -m engine predict`` runs on image files.
    """
    gray = rgba[..., :3].astype(np.float32) @ _LUMA  # (H, W) 0..255
    return (engine.ink_on_dark(gray / 255.0) * 255.0 + 0.5).astype(np.uint8)


def to_gray(kind: str, rgba: np.ndarray) -> np.ndarray:
    """Dispatch on the pad's event kind: "pad" or "image"."""
    if kind == "pad":
        return pad_gray(rgba)
    if kind == "image":
        return image_gray(rgba)
    raise ValueError(f"unknown ink kind {kind!r}; expected 'pad' or 'image'")


def preview_rgba(x28: np.ndarray) -> bytes:
    """(28, 28) float in [0, 1] -> RGBA bytes for a 28x28 ImageData (white on black, like the model sees)."""
    g = (np.clip(x28, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    out = np.empty(g.shape + (4,), dtype=np.uint8)
    out[..., 0] = out[..., 1] = out[..., 2] = g
    out[..., 3] = 255
    return out.tobytes()


def warm_up_ink(height: int = 280) -> np.ndarray:
    """A made-up "17" as the pad's ink canvas holds it (white on black, ``height`` rows), its two
    digits touching: reading it once runs every step of the reader (components, grouping, cuts,
    the model). web/main.py reads it when nothing was drawn while the page loaded, so the user's
    first reading is not the one that runs NumPy's code for the first time."""
    ys, xs = np.mgrid[0:height, 0 : 2 * height].astype(np.float32) / height
    strokes = [((0.55, 0.2), (0.55, 0.85)), ((0.62, 0.2), (1.05, 0.2)), ((1.05, 0.2), (0.8, 0.85))]
    ink = np.zeros(xs.shape, bool)
    for (x0, y0), (x1, y1) in strokes:
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        ink |= (xs - x0 - t * dx) ** 2 + (ys - y0 - t * dy) ** 2 < 0.045**2
    return ink.astype(np.uint8) * 255
