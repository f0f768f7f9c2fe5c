"""Batch normalization over every axis but the last (features or channels).

Works for dense inputs (N, D) and channels-last images (N, H, W, C) alike.
Training normalizes with the batch's statistics and updates running averages;
inference uses the running averages, so a single image is predicted the same
way whatever batch it arrives in.

Each pass runs over fixed-size row chunks on the engine's threads; the
per-channel sums are added chunk by chunk in float64, in order. Training makes two
passes each way: forward, sum(x) and sum(x²) then the affine map; backward, the sums
of dL/dy and dL/dy * x then dL/dx. The input x is kept, not x - mean.

A BatchNorm followed by a ReLU (``Sequential`` sets ``relu_after`` at build time) applies the
ReLU in its own last pass while a chunk is in cache, and masks dL/dy in its first backward
pass; the ReLU layer then passes training data through. The arithmetic is the two layers',
so the bits are the same; configs and model files do not change.
"""

import numpy as np

from ..parallel import column_sums, map_spans, row_spans, sum_in_order
from . import config_fields as fields
from .base import Layer, LayerSpec

# Per-channel arithmetic on (M, C) rows broadcasts a C-float row: NumPy's inner loop then runs
# over C elements only (32 or 64 here), and a product ran ~2x slower than on whole arrays. So each
# chunk is viewed as wide rows of up to WIDE_ROW floats (k rows of C side by side) against the
# per-channel vectors tiled k times, and sums come back as k partial sums per channel.
WIDE_ROW = 8192
# Rows this long already run at full speed (a dense layer's features): left as they are, which
# spares the folds (~20 µs a call on an MLP's (128, 256) batch).
LONG_ROW = 256


def widen(rows):
    """``rows`` (m, C) as (m/k, k*C), with k the largest power of two that divides m and fits WIDE_ROW
    (k = 1 for rows of LONG_ROW or more)."""
    m, c = rows.shape
    if c >= LONG_ROW:
        return rows
    k = m & -m if m else 1  # the largest power of two dividing m
    while k > 1 and k * c > WIDE_ROW:
        k //= 2
    return rows.reshape(m // k, k * c)


def tiled(vector):
    """A per-channel vector repeated to the widest row ``widen`` makes of its channel count."""
    c = vector.shape[0]
    copies = 1 if c >= LONG_ROW else max(1, WIDE_ROW // c)
    return np.broadcast_to(vector, (copies, c)).ravel() if copies > 1 else vector  # not np.tile: ~5x its overhead


def fold(sums, channels: int):
    """k partial sums per channel (k*C,) -> (C,), in float64."""
    sums = sums.astype(np.float64)
    return sums if sums.shape[0] == channels else sums.reshape(-1, channels).sum(axis=0)


def sums_and_squares(rows):
    """(sum(x), sum(x**2)) per channel, in float64: one read of the chunk gives both statistics."""
    wide = widen(rows)
    c = rows.shape[1]
    return fold(column_sums(wide), c), fold(np.einsum("mc,mc->c", wide, wide), c)


def affine(rows, gain, offset, y, relu: bool):
    """y = gamma * x_hat + beta, as x * (gamma * inv_std) + (beta - mean * gamma * inv_std), into ``y``;
    then max(y, 0) if ``relu`` (the zero a row, not the scalar 0: NumPy's maximum is ~3x faster so).
    ``gain`` and ``offset`` are ``tiled``."""
    x, out = widen(rows), widen(y)
    w = x.shape[1]
    np.multiply(x, gain[:w], out=out)
    out += offset[:w]
    if relu:
        np.maximum(out, np.zeros(w, out.dtype), out=out)


def gradient_sums(dy, rows):
    """(sum(dy * x), sum(dy)) per channel, in float64; sum(dy * x_hat) follows with the mean."""
    d, x = widen(dy), widen(rows)
    c = rows.shape[1]
    return fold(np.einsum("mc,mc->c", d, x), c), fold(column_sums(d), c)


def input_gradient(dy, rows, gain, slope, offset, dx):
    """dL/dx = gamma*inv_std * (dy - dbeta/n - x_hat*dgamma/n), as dy * gain + x * slope + offset
    (per-channel coefficients from the sums, tiled like ``affine``'s), into ``dx``; ``dy`` may be
    ``dx`` itself."""
    d, x, out = widen(dy), widen(rows), widen(dx)
    w = x.shape[1]
    scratch = np.multiply(x, slope[:w])
    scratch += offset[:w]
    np.multiply(d, gain[:w], out=out)
    out += scratch


def relu_gradient(dy, y, out):
    """dL/dy where the ReLU's output y is positive, 0 elsewhere, into ``out``."""
    np.multiply(dy, np.greater(y, 0), out=out)


class BatchNorm(Layer):
    # Set by Sequential when a ReLU follows: this layer then applies it (see the module docstring).
    relu_after = False
    # Set by Sequential when a MaxPool2D follows that ReLU: the pool's gradient is already 0 wherever
    # the ReLU's output is (MaxPool2D.after_relu), so the backward pass skips the ReLU's mask.
    relu_masked_after = False

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
        # One pass for both statistics, var = E[x²] - mean², added in float64 (a second pass over
        # x - mean cost a full-size write and read; conv outputs' means are within a few standard
        # deviations of 0, so the float32 sums keep ~6 digits of var).
        sums = map_spans(lambda a, b: sums_and_squares(rows[a:b]), chunks)
        mean = sum_in_order(s for s, _ in sums) / count
        var = np.maximum(sum_in_order(q for _, q in sums) / count - mean * mean, 0.0)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        gain = self.params["gamma"] * inv_std
        offset = self.params["beta"] - mean * gain
        gain, offset = (tiled(v.astype(x.dtype)) for v in (gain, offset))
        y = np.empty_like(rows)
        map_spans(lambda a, b: affine(rows[a:b], gain, offset, y[a:b], self.relu_after), chunks)
        m = self.momentum
        self.buffers["running_mean"] = (m * self.buffers["running_mean"] + (1 - m) * mean).astype(np.float32)
        unbiased = var * (count / max(count - 1, 1))
        self.buffers["running_var"] = (m * self.buffers["running_var"] + (1 - m) * unbiased).astype(np.float32)
        self._rows, self._mean, self._inv_std = rows, mean, inv_std  # x_hat = (x - mean) * inv_std, float64 stats
        # the ReLU's output: where it is positive, dL/dy flows
        self._y = y if self.relu_after and not self.relu_masked_after else None
        return y.reshape(x.shape)

    def backward(self, dLdy):
        dy = dLdy.reshape(-1, self.channels)
        rows, mean, inv_std, n = self._rows, self._mean, self._inv_std, dy.shape[0]
        chunks = row_spans(n, self.channels)
        y, self._y = self._y, None
        dx = np.empty_like(dy)
        if y is not None:  # the ReLU's backward first, into dx, chunk by chunk with the sums that read it

            def sums_of(a, b):
                relu_gradient(dy[a:b], y[a:b], dx[a:b])
                return gradient_sums(dx[a:b], rows[a:b])

            masked = dx
        else:

            def sums_of(a, b):
                return gradient_sums(dy[a:b], rows[a:b])

            masked = dy
        sums = map_spans(sums_of, chunks)
        dbeta = sum_in_order(b for _, b in sums)
        dgamma = (sum_in_order(g for g, _ in sums) - mean * dbeta) * inv_std  # sum(dy * x_hat)
        self.grads["gamma"][...] = dgamma
        self.grads["beta"][...] = dbeta
        # dx = gain * (dy - dbeta/n - x_hat*dgamma/n) = dy * gain + x * slope + offset
        gain = self.params["gamma"] * inv_std
        slope = -gain * dgamma * inv_std / n
        offset = -gain * dbeta / n - slope * mean
        gain, slope, offset = (tiled(v.astype(dy.dtype)) for v in (gain, slope, offset))
        map_spans(lambda a, b: input_gradient(masked[a:b], rows[a:b], gain, slope, offset, dx[a:b]), chunks)
        self._rows = None
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
