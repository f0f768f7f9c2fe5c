"""Batch normalization over every axis but the last (features or channels).

Works for dense inputs (N, D) and channels-last images (N, H, W, C) alike.
Training normalizes with the batch's statistics and updates running averages;
inference uses the running averages, so a single image is predicted the same
way whatever batch it arrives in.

Each pass runs over fixed-size row chunks on the engine's threads; the
per-channel sums are added chunk by chunk in float64, in order.

A BatchNorm followed by a ReLU (``Sequential`` sets ``relu_after`` at build time) applies the
ReLU in its own last pass while a chunk is in cache, and masks dL/dy in its first backward
pass; the ReLU layer then passes training data through. The arithmetic is the two layers',
so the bits are the same; configs and model files do not change.
"""

import numpy as np

from ..parallel import column_sums, map_spans, row_spans, sum_in_order
from . import config_fields as fields
from .base import Layer, LayerSpec


def centered_and_squares(rows, mean, centered):
    """centered = x - mean, into ``centered``; returns sum(centered**2) per channel, in float64."""
    np.subtract(rows, mean, out=centered)
    return np.einsum("mc,mc->c", centered, centered).astype(np.float64)


def normalized(centered, gain, beta, y):
    """y = gamma * x_hat + beta, as centered * (gamma * inv_std) + beta, into ``y``."""
    np.multiply(centered, gain, out=y)
    y += beta


def gradient_sums(dy, centered):
    """(sum(dy * centered), sum(dy)) per channel, in float64: dgamma / inv_std and dbeta."""
    return (np.einsum("mc,mc->c", dy, centered).astype(np.float64), column_sums(dy).astype(np.float64))


def input_gradient(dy, centered, slope, shift, gain, dx):
    """dL/dx = gamma*inv_std * (dy - dbeta/n - x_hat*dgamma/n), into ``dx``.

    With dx_hat = dy*gamma: sum(dx_hat) = gamma*dbeta and sum(dx_hat*x_hat) = gamma*dgamma;
    here slope = -dgamma*inv_std/n (x_hat*dgamma/n = centered * -slope), shift = dbeta/n and
    gain = gamma*inv_std."""
    np.multiply(centered, slope, out=dx)
    dx += dy
    dx -= shift
    dx *= gain


def relu_in_place(y):
    """max(y, 0) into y; the zero is a row, not the scalar 0: NumPy's maximum is ~3x faster so."""
    np.maximum(y, np.zeros(y.shape[-1], y.dtype), out=y)


def relu_gradient(dy, y, out):
    """dL/dy where the ReLU's output y is positive, 0 elsewhere, into ``out``."""
    np.multiply(dy, np.greater(y, 0), out=out)


class BatchNorm(Layer):
    # Set by Sequential when a ReLU follows: this layer then applies it (see the module docstring).
    relu_after = False

    def __init__(self, channels: int, momentum: float = 0.9, eps: float = 1e-5):
        super().__init__()
        self.channels, self.momentum, self.eps = int(channels), float(momentum), float(eps)
        self.params = {"gamma": np.ones(self.channels, np.float32), "beta": np.zeros(self.channels, np.float32)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {
            "running_mean": np.zeros(self.channels, np.float32),
            "running_var": np.ones(self.channels, np.float32),
        }

    def forward(self, x, training=False, rng=None):
        if not training:
            scale = self.params["gamma"] / np.sqrt(self.buffers["running_var"] + self.eps)
            return x * scale + (self.params["beta"] - self.buffers["running_mean"] * scale)
        rows = x.reshape(-1, self.channels)  # (M, C), M = all positions
        count = rows.shape[0]
        if count == 0:
            raise ValueError("BatchNorm cannot train on an empty batch: it has no statistics")
        chunks = row_spans(count, self.channels)
        if len(chunks) == 1:  # a dense layer's batch: the same formulas without the per-chunk machinery
            mean = column_sums(rows).astype(np.float64) / count
            centered, y = np.empty_like(rows), np.empty_like(rows)
            var = centered_and_squares(rows, mean.astype(x.dtype), centered) / count
            inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
            normalized(centered, self.params["gamma"] * inv_std, self.params["beta"], y)
            if self.relu_after:
                relu_in_place(y)
        else:
            mean, var, centered, inv_std, y = self._normalize_in_chunks(rows, chunks, x.dtype)
        m = self.momentum
        self.buffers["running_mean"] = (m * self.buffers["running_mean"] + (1 - m) * mean).astype(np.float32)
        unbiased = var * (count / max(count - 1, 1))
        self.buffers["running_var"] = (m * self.buffers["running_var"] + (1 - m) * unbiased).astype(np.float32)
        self._centered, self._inv_std = centered, inv_std  # x_hat = centered * inv_std
        self._y = y if self.relu_after else None  # the ReLU's output: where it is positive, dL/dy flows
        return y.reshape(x.shape)

    def _normalize_in_chunks(self, rows, chunks, dtype):
        count = rows.shape[0]
        mean = sum_in_order(map_spans(lambda a, b: column_sums(rows[a:b]).astype(np.float64), chunks)) / count
        mean32 = mean.astype(dtype)
        centered, y = np.empty_like(rows), np.empty_like(rows)
        var = (
            sum_in_order(map_spans(lambda a, b: centered_and_squares(rows[a:b], mean32, centered[a:b]), chunks)) / count
        )
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(dtype)
        gain, beta = self.params["gamma"] * inv_std, self.params["beta"]

        def normalize(a, b):
            normalized(centered[a:b], gain, beta, y[a:b])
            if self.relu_after:
                relu_in_place(y[a:b])

        map_spans(normalize, chunks)
        return mean, var, centered, inv_std, y

    def backward(self, dLdy):
        dy = dLdy.reshape(-1, self.channels)
        centered, inv_std, n = self._centered, self._inv_std, dy.shape[0]
        chunks = row_spans(n, self.channels)
        y, self._y = self._y, None
        if y is not None:  # the ReLU's backward first, chunk by chunk with the sums that read it
            after_relu, dy = dy, np.empty_like(dy)

            def sums_of(a, b):
                relu_gradient(after_relu[a:b], y[a:b], dy[a:b])
                return gradient_sums(dy[a:b], centered[a:b])

        else:

            def sums_of(a, b):
                return gradient_sums(dy[a:b], centered[a:b])

        if len(chunks) == 1:  # one chunk: its sums are the totals, no list to add up in order
            dgamma, dbeta = sums_of(0, n)
            dgamma *= inv_std
        else:
            sums = map_spans(sums_of, chunks)
            dgamma = sum_in_order(g for g, _ in sums) * inv_std
            dbeta = sum_in_order(b for _, b in sums)
        self.grads["gamma"][...] = dgamma
        self.grads["beta"][...] = dbeta
        slope, shift = (-dgamma * inv_std / n).astype(dy.dtype), (dbeta / n).astype(dy.dtype)
        gain = self.params["gamma"] * inv_std
        dx = np.empty_like(dy)
        map_spans(lambda a, b: input_gradient(dy[a:b], centered[a:b], slope, shift, gain, dx[a:b]), chunks)
        self._centered = None
        return dx.reshape(dLdy.shape)

    @classmethod
    def check_config(cls, config):
        fields.only(config, ("channels", "momentum", "eps"))
        return {
            "channels": fields.integer(config, "channels"),
            "momentum": fields.real(config, "momentum", 0.0, 1.0, default=0.9),
            "eps": fields.real(config, "eps", 1e-12, 1.0, default=1e-5),
        }

    @classmethod
    def spec(cls, config, input_shape):
        c = cls.check_config(config)["channels"]
        if not input_shape or input_shape[-1] != c:
            raise ValueError(f"BatchNorm expects {c} channels, got input shape {tuple(input_shape)}")
        arrays = {name: ("float32", (c,)) for name in ("gamma", "beta", "running_mean", "running_var")}
        return LayerSpec(tuple(input_shape), arrays)

    def config(self):
        return {"type": "BatchNorm", "channels": self.channels, "momentum": self.momentum, "eps": self.eps}

    def for_inference(self, previous):
        """Merged into the Conv2D or Dense before it: y' = (y - mean) * gamma / sqrt(var + eps) + beta."""
        if not hasattr(previous, "absorb_normalization"):
            raise ValueError("BatchNorm must follow a Conv2D or Dense layer to be folded")
        scale = self.params["gamma"] / np.sqrt(self.buffers["running_var"] + self.eps)
        previous.absorb_normalization(self.buffers["running_mean"], scale, self.params["beta"])
        return None

    def pytorch_twin(self, nn, input_shape):
        norm = nn.BatchNorm2d if len(input_shape) == 3 else nn.BatchNorm1d
        return norm(self.channels, momentum=round(1 - self.momentum, 6), eps=self.eps)
