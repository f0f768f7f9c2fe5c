"""Non-overlapping max pooling on NHWC images (window = stride = ``size``)."""

import numpy as np

from .base import Layer


class MaxPool2D(Layer):
    """x (N, H, W, C) -> y (N, H//s, W//s, C); trailing rows/columns that do not fill a window are dropped."""

    def __init__(self, size: int = 2):
        super().__init__()
        self.size = int(size)

    def _windows(self, x):
        n, h, w, c = x.shape
        s = self.size
        ho, wo = h // s, w // s
        return x[:, :ho * s, :wo * s, :].reshape(n, ho, s, wo, s, c)  # (N, Ho, s, Wo, s, C)

    def forward(self, x, training=False, rng=None):
        windows = self._windows(x)
        y = windows.max(axis=(2, 4))
        if training:
            # Gradient goes to the maximum; ties share it so the total is preserved.
            is_max = windows == y[:, :, None, :, None, :]
            self._share = is_max / is_max.sum(axis=(2, 4), keepdims=True, dtype=x.dtype)
            self._x_shape = x.shape
        return y

    def backward(self, dLdy):
        n, h, w, c = self._x_shape
        dwin = self._share * dLdy[:, :, None, :, None, :]
        ho, wo, s = dLdy.shape[1], dLdy.shape[2], self.size
        if (ho * s, wo * s) == (h, w):
            return dwin.reshape(self._x_shape)
        dx = np.zeros(self._x_shape, dLdy.dtype)
        dx[:, :ho * s, :wo * s, :] = dwin.reshape(n, ho * s, wo * s, c)
        return dx

    def output_shape(self, input_shape):
        h, w, c = input_shape
        return (h // self.size, w // self.size, c)

    def config(self):
        return {"type": "MaxPool2D", "size": self.size}
