"""Flatten: (N, H, W, C) -> (N, H*W*C), so a Dense layer can follow a convolution."""

import numpy as np

from .base import Layer, LayerSpec


class Flatten(Layer):
    def forward(self, x, training=False, rng=None):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dLdy):
        return dLdy.reshape(self._shape)

    @classmethod
    def spec(cls, config, input_shape):
        super().spec(config, input_shape)
        return LayerSpec((int(np.prod(input_shape, dtype=np.int64)),))

    def pytorch_twin(self, nn, input_shape):
        # The engine flattens (H, W, C), PyTorch (C, H, W): the same numbers in another order,
        # which the next layer's random initialization cannot tell apart.
        return nn.Flatten()
