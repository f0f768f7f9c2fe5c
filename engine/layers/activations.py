"""Element-wise activations."""

import numpy as np

from .base import Layer


class ReLU(Layer):
    """y = max(x, 0); the gradient flows where the input was positive."""

    def forward(self, x, training=False, rng=None):
        y = np.maximum(x, 0)
        self._positive = (y > 0) if training else None
        return y

    def backward(self, dLdy):
        return dLdy * self._positive
