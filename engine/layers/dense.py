"""Fully connected layer: y = x @ W + b."""

from functools import partial

import numpy as np

from ..initializers import init_weights
from .. import parallel
from ..parallel import column_sums, gemm_spans, map_spans, run_all
from .base import Layer


class Dense(Layer):
    """x (N, in_features) -> y (N, out_features); W (in, out), b (out,)."""

    def __init__(self, in_features: int, out_features: int, init: str = "he",
                 rng: np.random.Generator | None = None):
        super().__init__()
        self.in_features, self.out_features, self.init = int(in_features), int(out_features), init
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params = {
            "W": init_weights(init, (self.in_features, self.out_features), self.in_features, self.out_features, rng),
            "b": np.zeros(self.out_features, np.float32),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, training=False, rng=None):
        self._x = x if training else None  # only backward needs the input
        w, b = self.params["W"], self.params["b"]
        y = np.empty((x.shape[0], self.out_features), np.result_type(x.dtype, w.dtype))

        def columns(a, c):  # blocks of output features: each a whole GEMM over the batch
            np.matmul(x, w[:, a:c], out=y[:, a:c])
            y[:, a:c] += b[a:c]
        map_spans(columns, gemm_spans(self.out_features, self._flops(x)))
        return y

    def backward(self, dLdy):
        x, self._x = self._x, None
        w, dW, dx = self.params["W"], self.grads["W"], None
        self.grads["b"][...] = column_sums(dLdy)
        flops = self._flops(x)
        if flops * 2 < parallel.MIN_GEMM_PIECE_FLOPS:  # e.g. a classifier head: not worth a hand-off
            np.matmul(x.T, dLdy, out=dW)
            return dLdy @ w.T if self.needs_input_grad else None
        # dL/dW and dL/dx, both cut along the input features, are independent products,
        # so one hand-off to the threads runs them side by side; dL/dx, the bigger one, first.
        products = [lambda a, c: np.matmul(x[:, a:c].T, dLdy, out=dW[a:c])]
        if self.needs_input_grad:
            dx = np.empty(x.shape, dLdy.dtype)
            products.insert(0, lambda a, c: np.matmul(dLdy, w[a:c].T, out=dx[:, a:c]))
        blocks = gemm_spans(self.in_features, flops, sharing=len(products))
        run_all([partial(product, a, c) for product in products for a, c in blocks])
        return dx

    def _flops(self, x):
        return 2 * x.shape[0] * self.in_features * self.out_features

    def output_shape(self, input_shape):
        if tuple(input_shape) != (self.in_features,):
            raise ValueError(f"Dense expects input shape ({self.in_features},), got {tuple(input_shape)}")
        return (self.out_features,)

    def config(self):
        return {"type": "Dense", "in_features": self.in_features, "out_features": self.out_features}
