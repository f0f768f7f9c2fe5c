"""Inverted dropout: scaled at training time so inference is the identity."""

from __future__ import annotations

import numpy as np

from . import config_fields as fields
from .base import Layer


class Dropout(Layer):
    def __init__(self, rate: float = 0.5):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate = float(rate)

    def forward(self, x, training=False, rng=None):
        if not training or self.rate == 0.0:
            self._kept = None
            return x
        if rng is None:
            raise ValueError("Dropout needs an explicit np.random.Generator when training")
        # Kept where a uniform 16-bit integer falls below keep * 2^16 (the rate is honoured to
        # 1/65536). The integers are the generator's raw 64-bit words cut in four, ~2x faster
        # than rng.integers and ~3x faster than drawing floats. The mask holds 0 or 1/keep in
        # x's dtype, so forward and backward are one multiplication each.
        keep = 1.0 - self.rate
        threshold = np.uint16(min(round(keep * 65536), 65535))
        words = rng.bit_generator.random_raw(-(-x.size // 4))
        kept = np.less(words.view(np.uint16)[: x.size].reshape(x.shape), threshold)
        self._kept = kept.astype(x.dtype)
        self._kept *= x.dtype.type(1.0 / keep)
        return x * self._kept

    def backward(self, dLdy):
        if self._kept is None:
            return dLdy
        return dLdy * self._kept

    @classmethod
    def check_config(cls, config):
        fields.only(config, ("rate",))
        return {"rate": fields.real(config, "rate", 0.0, 1.0, default=0.5, high_open=True)}

    def config(self):
        return {"type": "Dropout", "rate": self.rate}

    def for_inference(self, previous):
        return None  # inverted dropout is the identity at inference

    def pytorch_twin(self, nn, input_shape):
        return nn.Dropout(self.rate)
