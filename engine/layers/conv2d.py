"""2-D convolution on channels-last images, as one matrix product per chunk of images (im2col).

Layout is NHWC: x (N, H, W, C). Weights are (kh, kw, C_in, C_out), so
``W.reshape(-1, C_out)`` lines up with the patch matrix's columns (kh, kw, C).
The arithmetic is the functions below, on one chunk's patch matrix; the layer
cuts the batch into chunks for the engine's threads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from ..initializers import INITIALIZERS, init_weights
from ..parallel import column_sums, map_spans, spans, sum_in_order, thread_scratch
from . import config_fields as fields
from . import winograd
from .base import Layer, LayerSpec
from .im2col import col2im, conv_output_size, im2col, scratch_buffer, single_channel_patches

if TYPE_CHECKING:
    from ..initializers import WeightsRng


def forward_product(cols, w2, bias, y):
    """y = patches @ W + b, into ``y`` (rows: output pixels; columns: output channels)."""
    np.matmul(cols, w2, out=y)
    y += bias


def weight_gradient(cols, dy):
    """dL/dW = patches.T @ dL/dy (one chunk's share)."""
    return cols.T @ dy


def full_convolution_pays(kernel: int, stride: int, padding: int) -> bool:
    """Whether dL/dx is better as the full convolution of dL/dy (one GEMM with a row per input pixel)
    than as dL/dy Wᵀ scattered back by col2im (a row per output pixel, then k*k adds): at stride 1
    when the output is at least as big as the input. A valid 3x3 convolution of 7x7 images has 25
    outputs for 49 inputs: the full convolution made twice the flops of the forward product."""
    return stride == 1 and 2 * padding >= kernel - 1


# Images per chunk are chosen so a chunk's patch matrix holds about this many numbers
# (4 MB of float32): it stays in the L3 cache next to the other thread's chunk, which
# made conv layers ~2.5x faster than one batch-sized patch matrix on a 2-core EPYC.
# Backward rebuilds each chunk's patches from the saved input instead of keeping the
# whole matrix alive. The chunk depends on the layer's shape only, never on the thread
# count, so per-chunk partial gradients add up to the same bits with any thread count.
PATCH_ELEMENTS = 1 << 20
# The same for the Winograd path's 16 tile matrices (V, or the products M).
WINOGRAD_ELEMENTS = 1 << 20


class Conv2D(Layer):
    """x (N, H, W, C_in) -> y (N, Ho, Wo, C_out); W (k, k, C_in, C_out), b (C_out,)."""

    takes_rng = True
    # Saliency turns Winograd off: its gradients must be those of the inference convolution, and
    # Winograd's transforms amplify the rounding gap between BLAS and Pyodide's plain NumPy (1e-3).
    winograd_allowed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 3,
        stride: int = 1,
        padding: int = 0,
        init: str = "he",
        rng: WeightsRng | None = None,
    ):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel, self.stride, self.padding = int(kernel), int(stride), int(padding)
        fan_in = self.kernel * self.kernel * self.in_channels
        fan_out = self.kernel * self.kernel * self.out_channels
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params = {
            "W": init_weights(
                init, (self.kernel, self.kernel, self.in_channels, self.out_channels), fan_in, fan_out, rng
            ),
            "b": np.zeros(self.out_channels, np.float32),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._new_scratch()

    @classmethod
    def check_config(cls, config):
        fields.only(config, ("in_channels", "out_channels", "kernel", "stride", "padding", "init"))
        kernel = fields.integer(config, "kernel", 1, 64, default=3)
        return {
            "in_channels": fields.integer(config, "in_channels"),
            "out_channels": fields.integer(config, "out_channels"),
            "kernel": kernel,
            "stride": fields.integer(config, "stride", 1, 64, default=1),
            # Padding of a whole kernel or more only adds outputs that see nothing but zeros.
            "padding": fields.integer(config, "padding", 0, kernel - 1, default=0),
            "init": fields.choice(config, "init", tuple(INITIALIZERS), default="he"),
        }

    @classmethod
    def spec(cls, config, input_shape):
        c = cls.check_config(config)
        h, w, channels = fields.image_shape(input_shape, "Conv2D")
        k, s, p, ci, co = c["kernel"], c["stride"], c["padding"], c["in_channels"], c["out_channels"]
        if channels != ci:
            raise ValueError(f"Conv2D expects {ci} input channels, got input shape {tuple(input_shape)}")
        ho, wo = conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)
        if ho < 1 or wo < 1:
            raise ValueError(f"Conv2D: a {h}x{w} input is smaller than its {k}x{k} kernel (padding {p})")
        arrays = {"W": ("float32", (k, k, ci, co)), "b": ("float32", (co,))}
        return LayerSpec((ho, wo, co), arrays, flops=2 * ho * wo * k * k * ci * co, working=ho * wo * k * k * ci)

    def config(self):
        return {
            "type": "Conv2D",
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel": self.kernel,
            "stride": self.stride,
            "padding": self.padding,
        }

    def forward(self, x, training=False, rng=None):
        self._tiles: list | None = None
        if training and self.uses_winograd(x.shape):
            y, self._tiles = self._winograd_forward(x)
            self._x = x
            return y
        w2 = self.params["W"].reshape(-1, self.out_channels)  # (k*k*C, F)
        bias = self.params["b"]
        y = np.empty((x.shape[0],) + self.output_shape(x.shape[1:]), np.result_type(x.dtype, w2.dtype))
        self.map_patch_chunks(x, y, lambda cols, out: forward_product(cols, w2, bias, out), training)
        self._x = x if training else None
        return y

    def map_patch_chunks(self, x, y, product, training: bool = False) -> None:
        """``product(patches, y_rows)`` for each chunk of images, on the engine's threads: patches
        (M, k*k*C_in) and the chunk's output rows (M, C_out), M = images x output pixels."""
        f = self.out_channels

        def chunk(a, b):
            product(self._patch_matrix(x[a:b], thread_scratch(self._scratch), training), y[a:b].reshape(-1, f))

        map_spans(chunk, spans(x.shape[0], self.images_per_chunk(x.shape)))

    def _patch_matrix(self, x, scratch: dict, training: bool) -> np.ndarray:
        """(M, k*k*C_in) patches of a chunk. Training on one input channel builds them as rows of
        shifted images (inference keeps im2col's layout, and with it the predictions' bits)."""
        k, s, p = self.kernel, self.stride, self.padding
        if training and self.in_channels == 1:
            return single_channel_patches(x, k, s, p, scratch)
        return im2col(x, k, s, p, scratch).reshape(-1, k * k * self.in_channels)  # (n_c*Ho*Wo, k*k*C)

    def backward(self, dLdy):
        k, s, p, f = self.kernel, self.stride, self.padding, self.out_channels
        x, self._x = self._x, None
        assert x is not None, "backward needs a forward with training=True first"
        if self._tiles is not None:
            return self._winograd_backward(x, dLdy)
        w = self.params["W"]
        dx = np.empty(x.shape, dLdy.dtype) if self.needs_input_grad else None
        # Stride 1 with an output as big as the input: dL/dx is a full convolution of dL/dy with the
        # kernel flipped in space and transposed in channels; a dense GEMM instead of a scatter-add.
        full = full_convolution_pays(k, s, p)
        flipped = w[::-1, ::-1].transpose(0, 1, 3, 2).reshape(-1, self.in_channels) if full else None

        def chunk(a, b):
            dy = dLdy[a:b]
            cols = self._patch_matrix(x[a:b], thread_scratch(self._scratch), training=True)
            dW = weight_gradient(cols, dy.reshape(-1, f))
            db = column_sums(dy.reshape(-1, f))
            if dx is not None and flipped is not None:  # stride 1, output as big as the input
                dcols = im2col(dy, k, 1, k - 1 - p, thread_scratch(self._dy_scratch))  # (n_c, H, W, k, k, F)
                np.matmul(dcols.reshape(-1, flipped.shape[0]), flipped, out=dx[a:b].reshape(-1, self.in_channels))
            elif dx is not None:
                ho, wo = dy.shape[1:3]
                dcols = (dy.reshape(-1, f) @ w.reshape(-1, f).T).reshape(b - a, ho, wo, k, k, self.in_channels)
                dx[a:b] = col2im(dcols, (b - a,) + x.shape[1:], k, s, p)
            return dW, db

        # Partial sums per chunk, added in chunk order: the same bits for any thread count.
        parts = map_spans(chunk, spans(x.shape[0], self.images_per_chunk(x.shape)))
        if not parts:  # an empty batch: no gradient
            self.grads["W"][...], self.grads["b"][...] = 0, 0
            return dx
        self.grads["W"][...] = sum_in_order(dW for dW, _ in parts).reshape(w.shape)
        self.grads["b"][...] = sum_in_order(db for _, db in parts)
        return dx

    def uses_winograd(self, x_shape) -> bool:
        """Training takes the Winograd path (engine/layers/winograd.py) where it applies; inference
        keeps im2col, so predictions (and the int8 twin, which mirrors it) are unchanged."""
        if not self.winograd_allowed:
            return False
        return winograd.applies(self.kernel, self.stride, self.padding, x_shape[1], x_shape[2], self.in_channels)

    def _winograd_chunks(self, x_shape) -> list[tuple[int, int]]:
        """Image chunks whose 16 tile matrices hold at most about PATCH_ELEMENTS numbers."""
        tiles = 16 * (x_shape[1] // 2) * (x_shape[2] // 2) * max(self.in_channels, self.out_channels)
        fit = WINOGRAD_ELEMENTS // max(1, tiles)
        return spans(x_shape[0], 1 << max(0, fit.bit_length() - 1))

    def _winograd_forward(self, x):
        n, h, w, c = x.shape
        f = self.out_channels
        u = winograd.filter_tiles(self.params["W"].astype(x.dtype, copy=False))  # (16, C, F)
        bias = self.params["b"].astype(x.dtype, copy=False)
        y = np.empty((n, h, w, f), x.dtype)

        def chunk(a, b):
            scratch = thread_scratch(self._scratch)
            v = winograd.input_tiles(x[a:b], scratch)  # (16, n_c, H/2, W/2, C), kept for backward
            m = scratch_buffer(scratch, "products", (16, v[0].size // c, f), x.dtype)
            np.matmul(v.reshape(16, -1, c), u, out=m)
            winograd.output_from_tiles(m.reshape(v.shape[:4] + (f,)), bias, y[a:b], scratch)
            return v

        return y, map_spans(chunk, self._winograd_chunks(x.shape))

    def _winograd_backward(self, x, dLdy):
        tiles, self._tiles = self._tiles or [], None
        c, f = self.in_channels, self.out_channels
        dx = np.empty(x.shape, dLdy.dtype) if self.needs_input_grad else None
        signs = winograd.signs(dLdy.dtype)
        # dL/dV = dL/dM Uᵀ, with the signs of D (see winograd.output_gradient) folded into U. Uᵀ is
        # copied: a batched matmul with a transposed view as its second operand ran ~1.7x slower.
        u = signs * winograd.filter_tiles(self.params["W"].astype(dLdy.dtype, copy=False))
        u_back = np.ascontiguousarray(u.transpose(0, 2, 1))
        pieces = self._winograd_chunks(x.shape)
        tiles_of = dict(zip(pieces, tiles))  # each chunk's V from the forward, by its span

        def chunk(a, b):
            scratch = thread_scratch(self._dy_scratch)
            dy, v = dLdy[a:b], tiles_of[a, b]
            d = winograd.output_gradient(dy, scratch_buffer(scratch, "d", v.shape[:4] + (f,), dy.dtype))
            d2 = d.reshape(16, -1, f)
            du = np.matmul(v.reshape(16, -1, c).transpose(0, 2, 1), d2)  # (16, C, F), without D's signs
            if dx is not None:
                dv = scratch_buffer(scratch, "dv", v.shape, dy.dtype)
                np.matmul(d2, u_back, out=dv.reshape(16, -1, c))
                winograd.input_gradient(dv, dx[a:b], scratch)
            return du, column_sums(dy.reshape(-1, f))

        parts = map_spans(chunk, pieces)
        if not parts:  # an empty batch: no gradient
            self.grads["W"][...], self.grads["b"][...] = 0, 0
            return dx
        self.grads["W"][...] = winograd.filter_gradient(signs * sum_in_order(du for du, _ in parts))
        self.grads["b"][...] = sum_in_order(db for _, db in parts)
        return dx

    def images_per_chunk(self, x_shape) -> int:
        """A power of two whose patch matrix holds at most about PATCH_ELEMENTS numbers. Powers of
        two split the usual power-of-two batches evenly between threads."""
        ho, wo, _ = self.output_shape(x_shape[1:])
        fit = PATCH_ELEMENTS // max(1, ho * wo * self.kernel**2 * max(self.in_channels, self.out_channels))
        return 1 << max(0, fit.bit_length() - 1)

    def absorb_normalization(self, mean: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> None:
        """Fold y' = (y - mean) * scale + shift per output channel (an inference BatchNorm) into W and b."""
        self.params["W"] = (self.params["W"] * scale).astype(np.float32)  # scales the output channel axis
        self.params["b"] = ((self.params["b"] - mean) * scale + shift).astype(np.float32)

    def pytorch_twin(self, nn, input_shape):
        return nn.Conv2d(self.in_channels, self.out_channels, self.kernel, self.stride, self.padding)

    def __getstate__(self):
        # Per-thread scratch buffers cannot be pickled or deep-copied, and need not be.
        # Nor need the forward's Winograd tiles, which only the next backward uses.
        return {k: v for k, v in self.__dict__.items() if k not in ("_scratch", "_dy_scratch", "_tiles")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._new_scratch()

    def _new_scratch(self):
        """Each thread's im2col buffers (of x, and of dL/dy), reused across calls."""
        self._scratch, self._dy_scratch = threading.local(), threading.local()
        self._tiles = None
