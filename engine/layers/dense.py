"""Fully connected layer: y = x @ W + b."""

import numpy as np

from ..initializers import init_weights
from ..parallel import gemm_spans, map_spans
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

        def rows(a, c):
            np.matmul(x[a:c], w, out=y[a:c])
            y[a:c] += b
        map_spans(rows, gemm_spans(x.shape[0]))
        return y

    def backward(self, dLdy):
        x, self._x = self._x, None
        w, dW = self.params["W"], self.grads["W"]
        # dW column blocks are independent GEMMs: no partial sums to add.
        map_spans(lambda a, c: np.matmul(x.T, dLdy[:, a:c], out=dW[:, a:c]), gemm_spans(self.out_features, columns=True))
        self.grads["b"][...] = dLdy.sum(axis=0)
        if not self.needs_input_grad:
            return None
        dx = np.empty(x.shape, dLdy.dtype)
        map_spans(lambda a, c: np.matmul(dLdy[a:c], w.T, out=dx[a:c]), gemm_spans(x.shape[0]))
        return dx

    def output_shape(self, input_shape):
        if tuple(input_shape) != (self.in_features,):
            raise ValueError(f"Dense expects input shape ({self.in_features},), got {tuple(input_shape)}")
        return (self.out_features,)

    def config(self):
        return {"type": "Dense", "in_features": self.in_features, "out_features": self.out_features}
