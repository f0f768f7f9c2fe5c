"""2-D convolution on channels-last images, as one matrix multiply (im2col).

Layout is NHWC: x (N, H, W, C). Channels-last lets the im2col matrix be built
with one strided copy per kernel offset (kh*kw copies, never a loop over
pixels or samples) and lets the product reshape straight into NHWC output with
no transpose. Weights are (kh, kw, C_in, C_out), so ``W.reshape(-1, C_out)``
lines up with the column layout (kh, kw, C).
"""

import threading

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..initializers import init_weights
from ..parallel import column_sums, map_spans, spans, sum_in_order, thread_scratch
from .base import Layer


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def im2col(x: np.ndarray, kernel: int, stride: int, padding: int, scratch: dict | None = None) -> np.ndarray:
    """(N, H, W, C) -> (N, Ho, Wo, k, k, C) patches; reshape to (N*Ho*Wo, k*k*C) for the GEMM.

    One copy from a sliding-window view, whose innermost run is a whole image
    row, is ~4x faster than k*k copies with C-float runs. ``scratch`` (a dict
    the caller keeps) lets the padded image and patch buffers be reused across
    calls, sparing the page faults of fresh multi-megabyte allocations.
    """
    scratch = {} if scratch is None else scratch
    n, h, w, c = x.shape
    if padding:
        xp = _buffer(scratch, "padded", (n, h + 2 * padding, w + 2 * padding, c), x.dtype, zero=True)
        xp[:, padding:padding + h, padding:padding + w, :] = x  # the border stays zero
    else:
        xp = x
    # The view of a reused padded buffer is reused too: building it costs ~10 µs of Python
    # per call, hundreds of times per training step.
    cached = scratch.get(("windows", kernel, stride))
    if cached is not None and cached[0] is xp:
        windows = cached[1]
    else:
        windows = sliding_window_view(xp, (kernel, kernel), axis=(1, 2))[:, ::stride, ::stride]  # (N, Ho, Wo, C, k, k)
        windows = windows.transpose(0, 1, 2, 4, 5, 3)                                             # (N, Ho, Wo, k, k, C)
        if padding:
            scratch[("windows", kernel, stride)] = (xp, windows)
    cols = _buffer(scratch, "cols", windows.shape, x.dtype)
    np.copyto(cols, windows)
    return cols


def _buffer(scratch: dict, name: str, shape: tuple, dtype, zero: bool = False) -> np.ndarray:
    """A reusable array from ``scratch``, reallocated only when shape or dtype change."""
    buf = scratch.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = scratch[name] = np.zeros(shape, dtype) if zero else np.empty(shape, dtype)
    return buf


def col2im(dcols: np.ndarray, input_shape: tuple, kernel: int, stride: int, padding: int) -> np.ndarray:
    """Adjoint of ``im2col``: scatter-add (N, Ho, Wo, k, k, C) patches back to (N, H, W, C)."""
    n, h, w, c = input_shape
    ho, wo = dcols.shape[1], dcols.shape[2]
    dxp = np.zeros((n, h + 2 * padding, w + 2 * padding, c), dcols.dtype)
    for i in range(kernel):
        for j in range(kernel):
            dxp[:, i:i + stride * ho:stride, j:j + stride * wo:stride, :] += dcols[:, :, :, i, j, :]
    return dxp[:, padding:padding + h, padding:padding + w, :] if padding else dxp


# Images per chunk are chosen so a chunk's patch matrix holds about this many numbers
# (4 MB of float32): it stays in the L3 cache next to the other thread's chunk, which
# made conv layers ~2.5x faster than one batch-sized patch matrix on a 2-core EPYC.
# Backward rebuilds each chunk's patches from the saved input instead of keeping the
# whole matrix alive. The chunk depends on the layer's shape only, never on the thread
# count, so per-chunk partial gradients add up to the same bits with any thread count.
PATCH_ELEMENTS = 1 << 20


class Conv2D(Layer):
    """x (N, H, W, C_in) -> y (N, Ho, Wo, C_out); W (k, k, C_in, C_out), b (C_out,)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1,
                 padding: int = 0, init: str = "he", rng: np.random.Generator | None = None):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel, self.stride, self.padding = int(kernel), int(stride), int(padding)
        fan_in = self.kernel * self.kernel * self.in_channels
        fan_out = self.kernel * self.kernel * self.out_channels
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params = {
            "W": init_weights(init, (self.kernel, self.kernel, self.in_channels, self.out_channels), fan_in, fan_out, rng),
            "b": np.zeros(self.out_channels, np.float32),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._new_scratch()

    def forward(self, x, training=False, rng=None):
        k, s, p, f = self.kernel, self.stride, self.padding, self.out_channels
        n = x.shape[0]
        ho, wo, _ = self.output_shape(x.shape[1:])
        w2 = self.params["W"].reshape(-1, f)                                   # (k*k*C, F)
        bias = self.params["b"]
        y = np.empty((n, ho, wo, f), np.result_type(x.dtype, w2.dtype))

        def chunk(a, b):
            cols = im2col(x[a:b], k, s, p, thread_scratch(self._scratch))     # (n_c, Ho, Wo, k, k, C)
            out = y[a:b].reshape(-1, f)
            np.matmul(cols.reshape(-1, w2.shape[0]), w2, out=out)
            out += bias
        map_spans(chunk, spans(n, self._chunk(x.shape)))
        self._x = x if training else None
        return y

    def backward(self, dLdy):
        k, s, p, f = self.kernel, self.stride, self.padding, self.out_channels
        x, self._x = self._x, None
        w = self.params["W"]
        dx = np.empty(x.shape, dLdy.dtype) if self.needs_input_grad else None
        # Stride 1: dL/dx is a full convolution of dL/dy with the kernel flipped in
        # space and transposed in channels; a dense GEMM instead of a scatter-add.
        flipped = w[::-1, ::-1].transpose(0, 1, 3, 2).reshape(-1, self.in_channels) if s == 1 else None

        def chunk(a, b):
            dy = dLdy[a:b]
            cols = im2col(x[a:b], k, s, p, thread_scratch(self._scratch))
            dW = cols.reshape(-1, k * k * self.in_channels).T @ dy.reshape(-1, f)
            db = column_sums(dy.reshape(-1, f))
            if dx is not None and s == 1:
                dcols = im2col(dy, k, 1, k - 1 - p, thread_scratch(self._dy_scratch))   # (n_c, H, W, k, k, F)
                np.matmul(dcols.reshape(-1, flipped.shape[0]), flipped, out=dx[a:b].reshape(-1, self.in_channels))
            elif dx is not None:
                dcols = (dy.reshape(-1, f) @ w.reshape(-1, f).T).reshape(cols.shape)
                dx[a:b] = col2im(dcols, cols.shape[:1] + x.shape[1:], k, s, p)
            return dW, db
        # Partial sums per chunk, added in chunk order: the same bits for any thread count.
        parts = map_spans(chunk, spans(x.shape[0], self._chunk(x.shape)))
        if not parts:  # an empty batch: no gradient
            self.grads["W"][...], self.grads["b"][...] = 0, 0
            return dx
        self.grads["W"][...] = sum_in_order(dW for dW, _ in parts).reshape(w.shape)
        self.grads["b"][...] = sum_in_order(db for _, db in parts)
        return dx

    def __getstate__(self):
        # Per-thread scratch buffers cannot be pickled or deep-copied, and need not be.
        return {k: v for k, v in self.__dict__.items() if k not in ("_scratch", "_dy_scratch")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._new_scratch()

    def _new_scratch(self):
        """Each thread's im2col buffers (of x, and of dL/dy), reused across calls."""
        self._scratch, self._dy_scratch = threading.local(), threading.local()

    def _chunk(self, x_shape) -> int:
        """Images per chunk: a power of two whose patch matrix holds at most about PATCH_ELEMENTS
        numbers. Powers of two split the usual power-of-two batches evenly between threads."""
        ho, wo, _ = self.output_shape(x_shape[1:])
        fit = PATCH_ELEMENTS // max(1, ho * wo * self.kernel ** 2 * max(self.in_channels, self.out_channels))
        return 1 << max(0, fit.bit_length() - 1)

    def output_shape(self, input_shape):
        h, w, c = input_shape
        if c != self.in_channels:
            raise ValueError(f"Conv2D expects {self.in_channels} input channels, got {c}")
        ho = conv_output_size(h, self.kernel, self.stride, self.padding)
        wo = conv_output_size(w, self.kernel, self.stride, self.padding)
        if ho < 1 or wo < 1:
            raise ValueError(f"Conv2D: a {h}x{w} input is smaller than its {self.kernel}x{self.kernel} kernel "
                             f"(padding {self.padding})")
        return ho, wo, self.out_channels

    def config(self):
        return {"type": "Conv2D", "in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel": self.kernel, "stride": self.stride, "padding": self.padding}
