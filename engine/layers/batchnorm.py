"""Batch normalization over every axis but the last (features or channels).

Works for dense inputs (N, D) and channels-last images (N, H, W, C) alike.
Training normalizes with the batch's statistics and updates running averages;
inference uses the running averages, so a single image is predicted the same
way whatever batch it arrives in.
"""

import numpy as np

from .base import Layer


class BatchNorm(Layer):
    def __init__(self, channels: int, momentum: float = 0.9, eps: float = 1e-5):
        super().__init__()
        self.channels, self.momentum, self.eps = int(channels), float(momentum), float(eps)
        self.params = {"gamma": np.ones(self.channels, np.float32), "beta": np.zeros(self.channels, np.float32)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(self.channels, np.float32),
                        "running_var": np.ones(self.channels, np.float32)}

    def forward(self, x, training=False, rng=None):
        if not training:
            scale = self.params["gamma"] / np.sqrt(self.buffers["running_var"] + self.eps)
            return x * scale + (self.params["beta"] - self.buffers["running_mean"] * scale)
        rows = x.reshape(-1, self.channels)                       # (M, C), M = all positions
        count = rows.shape[0]
        mean = rows.mean(axis=0)
        x_hat = rows - mean
        var = np.einsum("mc,mc->c", x_hat, x_hat) / count         # no (M, C) temporary
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        x_hat *= inv_std
        m = self.momentum
        self.buffers["running_mean"] = (m * self.buffers["running_mean"] + (1 - m) * mean).astype(np.float32)
        unbiased = var * (count / max(count - 1, 1))
        self.buffers["running_var"] = (m * self.buffers["running_var"] + (1 - m) * unbiased).astype(np.float32)
        self._x_hat, self._inv_std = x_hat, inv_std
        y = x_hat * self.params["gamma"]
        y += self.params["beta"]
        return y.reshape(x.shape)

    def backward(self, dLdy):
        dy = dLdy.reshape(-1, self.channels)
        x_hat, n = self._x_hat, dy.shape[0]
        dgamma = np.einsum("mc,mc->c", dy, x_hat)
        dbeta = dy.sum(axis=0)
        self.grads["gamma"][...] = dgamma
        self.grads["beta"][...] = dbeta
        # With dx_hat = dy*gamma: sum(dx_hat) = gamma*dbeta and sum(dx_hat*x_hat) = gamma*dgamma, so
        # dL/dx = gamma*inv_std * (dy - dbeta/n - x_hat*dgamma/n), computed in place.
        dx = x_hat * (-dgamma / n).astype(dy.dtype)
        dx += dy
        dx -= (dbeta / n).astype(dy.dtype)
        dx *= self.params["gamma"] * self._inv_std
        self._x_hat = None
        return dx.reshape(dLdy.shape)

    def output_shape(self, input_shape):
        if input_shape[-1] != self.channels:
            raise ValueError(f"BatchNorm expects {self.channels} channels, got {input_shape[-1]}")
        return tuple(input_shape)

    def config(self):
        return {"type": "BatchNorm", "channels": self.channels, "momentum": self.momentum, "eps": self.eps}
