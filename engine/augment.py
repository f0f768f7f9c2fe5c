"""Data augmentation for digit images: random affine warps and optional elastic distortion.

Each image gets its own rotation, scale, shear and shift; all of them (and the
elastic field) are folded into one source coordinate per output pixel, then
sampled once with bilinear interpolation, vectorized over the batch. Elastic
distortion follows Simard et al. (2003): a random displacement field smoothed
by a Gaussian, here as two small matrix products per image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parallel import map_rows


@dataclass(frozen=True)
class AugmentConfig:
    rotation_deg: float = 12.0  # uniform in [-r, r]
    scale: tuple = (0.9, 1.1)  # uniform zoom factor
    shear_deg: float = 8.0  # uniform in [-s, s]
    shift_px: float = 2.5  # uniform in [-s, s] per axis
    elastic: bool = False  # elastic distortion on top of the affine warp
    elastic_alpha: float = 30.0  # displacement strength (pixels before smoothing)
    elastic_sigma: float = 4.0  # smoothing width: larger is smoother, gentler


def _gaussian_matrix(size: int, sigma: float) -> np.ndarray:
    """(size, size) matrix that blurs a vector with a normalized Gaussian (zero beyond the edges)."""
    offsets = np.arange(size)[:, None] - np.arange(size)[None, :]
    g = np.exp(-0.5 * (offsets / sigma) ** 2)
    return (g / g.sum(axis=1, keepdims=True)).astype(np.float32)


def bilinear_sample(images: np.ndarray, src_y: np.ndarray, src_x: np.ndarray) -> np.ndarray:
    """Sample images (N,H,W) at float coordinates (N,H,W); outside the image is 0 (background)."""
    n, h, w = images.shape
    padded = np.zeros((n, h + 2, w + 2), images.dtype)  # a zero border makes out-of-range reads black
    padded[:, 1:-1, 1:-1] = images
    y = np.clip(src_y + 1, 0, h + 1 - 1e-4)
    x = np.clip(src_x + 1, 0, w + 1 - 1e-4)
    y0, x0 = np.floor(y).astype(np.int32), np.floor(x).astype(np.int32)
    y1, x1 = np.minimum(y0 + 1, h + 1), np.minimum(x0 + 1, w + 1)
    wy, wx = (y - y0).astype(images.dtype), (x - x0).astype(images.dtype)
    flat = padded.reshape(n, -1)
    stride = w + 2

    def at(yy, xx):
        return np.take_along_axis(flat, (yy * stride + xx).reshape(n, -1), axis=1).reshape(n, h, w)

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return top * (1 - wy) + bottom * wy


class Augmenter:
    """Callable: (images (N,H,W) float32, rng) -> randomly warped images of the same shape."""

    def __init__(self, config: AugmentConfig = AugmentConfig()):
        self.config = config

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        c = self.config
        n, h, w = images.shape
        # Every random draw first, in a fixed order, so the result does not depend on the threads.
        angle = np.deg2rad(rng.uniform(-c.rotation_deg, c.rotation_deg, n))
        shear = np.deg2rad(rng.uniform(-c.shear_deg, c.shear_deg, n))
        zoom = rng.uniform(c.scale[0], c.scale[1], n)
        shift = rng.uniform(-c.shift_px, c.shift_px, (n, 2))
        fields = rng.uniform(-1, 1, (2, n, h, w)).astype(np.float32) if c.elastic else None
        # Inverse map: output pixel -> source pixel, about the image centre.
        cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
        tan = np.tan(shear)
        cy, cx = (h - 1) / 2, (w - 1) / 2
        grid_y, grid_x = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
        out = np.empty_like(images)

        def warp(a, b):
            gy = grid_y[None] - shift[a:b, 0, None, None]
            gx = grid_x[None] - shift[a:b, 1, None, None]
            src_y = cos[a:b, None, None] * gy - sin[a:b, None, None] * gx + cy
            src_x = sin[a:b, None, None] * gy + cos[a:b, None, None] * gx + tan[a:b, None, None] * gy + cx
            if fields is not None:
                gh, gw = _gaussian_matrix(h, c.elastic_sigma), _gaussian_matrix(w, c.elastic_sigma)
                smooth = gh @ fields[:, a:b] @ gw.T  # (2, n, H, W)
                smooth *= c.elastic_alpha / (np.abs(smooth).max(axis=(2, 3), keepdims=True) + 1e-6) / 8
                src_y = src_y + smooth[0]
                src_x = src_x + smooth[1]
            out[a:b] = bilinear_sample(images[a:b], src_y.astype(np.float32), src_x.astype(np.float32))

        # About 40 array passes per pixel, so even one batch is worth splitting between threads.
        map_rows(warp, n, h * w * 40)
        return out
