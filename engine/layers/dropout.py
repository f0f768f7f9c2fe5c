"""Inverted dropout: scaled at training time so inference is the identity."""

import numpy as np

from .base import Layer


class Dropout(Layer):
    def __init__(self, rate: float = 0.5):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate = float(rate)

    def forward(self, x, training=False, rng=None):
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if rng is None:
            raise ValueError("Dropout needs an explicit np.random.Generator when training")
        keep = 1.0 - self.rate
        # One uniform draw, turned in place into the mask: kept units are scaled by 1/keep.
        mask = rng.random(x.shape, dtype=np.float32) if x.dtype == np.float32 else rng.random(x.shape)
        np.less(mask, keep, out=mask, casting="unsafe")
        mask *= x.dtype.type(1.0 / keep)
        self._mask = mask
        return x * mask

    def backward(self, dLdy):
        return dLdy if self._mask is None else dLdy * self._mask

    def config(self):
        return {"type": "Dropout", "rate": self.rate}
