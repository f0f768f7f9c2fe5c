"""Flatten: (N, H, W, C) -> (N, H*W*C), so a Dense layer can follow a convolution."""

import numpy as np

from .base import Layer


class Flatten(Layer):
    def forward(self, x, training=False, rng=None):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dLdy):
        return dLdy.reshape(self._shape)

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)
