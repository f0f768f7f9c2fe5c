"""Fully connected layer: y = x @ W + b.

The arithmetic is the three textbook products below, each on one block of the
matrices; the layer only decides how to cut the products into blocks for the
engine's threads (``parallel.gemm_spans``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from .. import parallel
from ..initializers import INITIALIZERS, init_weights
from ..parallel import column_sums, gemm_spans, map_spans, run_all
from . import config_fields as fields
from .base import Layer, LayerSpec

if TYPE_CHECKING:
    from ..initializers import WeightsRng


def forward_product(x, w, b, y):
    """y = x @ W + b, into ``y``."""
    np.matmul(x, w, out=y)
    y += b


def weight_gradient(x, dLdy, dW):
    """dL/dW = x.T @ dL/dy, into ``dW``."""
    np.matmul(x.T, dLdy, out=dW)


def input_gradient(dLdy, w, dx):
    """dL/dx = dL/dy @ W.T, into ``dx``."""
    np.matmul(dLdy, w.T, out=dx)


class Dense(Layer):
    """x (N, in_features) -> y (N, out_features); W (in, out), b (out,)."""

    takes_rng = True

    def __init__(self, in_features: int, out_features: int, init: str = "he", rng: WeightsRng | None = None):
        super().__init__()
        self.in_features, self.out_features, self.init = int(in_features), int(out_features), init
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params = {
            "W": init_weights(init, (self.in_features, self.out_features), self.in_features, self.out_features, rng),
            "b": np.zeros(self.out_features, np.float32),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @classmethod
    def check_config(cls, config):
        fields.only(config, ("in_features", "out_features", "init"))
        return {
            "in_features": fields.integer(config, "in_features"),
            "out_features": fields.integer(config, "out_features"),
            "init": fields.choice(config, "init", tuple(INITIALIZERS), default="he"),
        }

    @classmethod
    def spec(cls, config, input_shape):
        c = cls.check_config(config)
        i, o = c["in_features"], c["out_features"]
        fields.shape_is(input_shape, (i,), "Dense")
        return LayerSpec((o,), {"W": ("float32", (i, o)), "b": ("float32", (o,))}, flops=2 * i * o)

    def config(self):
        return {"type": "Dense", "in_features": self.in_features, "out_features": self.out_features}

    def forward(self, x, training=False, rng=None):
        self._x = x if training else None  # only backward needs the input
        w, b = self.params["W"], self.params["b"]
        y = np.empty((x.shape[0], self.out_features), np.result_type(x.dtype, w.dtype))
        # Blocks of output features: each a whole product over the batch.
        map_spans(
            lambda a, c: forward_product(x, w[:, a:c], b[a:c], y[:, a:c]), gemm_spans(self.out_features, self._flops(x))
        )
        return y

    def backward(self, dLdy):
        x, self._x = self._x, None
        assert x is not None, "backward needs a forward with training=True first"
        w, dW, dx = self.params["W"], self.grads["W"], None
        self.grads["b"][...] = column_sums(dLdy)
        flops = self._flops(x)
        if flops * 2 < parallel.MIN_GEMM_PIECE_FLOPS:  # e.g. a classifier head: not worth a hand-off
            weight_gradient(x, dLdy, dW)
            return dLdy @ w.T if self.needs_input_grad else None
        # dL/dW and dL/dx, both cut along the input features, are independent products,
        # so one hand-off to the threads runs them side by side; dL/dx, the bigger one, first.
        products = [lambda a, c: weight_gradient(x[:, a:c], dLdy, dW[a:c])]
        if self.needs_input_grad:
            dx = np.empty(x.shape, dLdy.dtype)
            products.insert(0, lambda a, c: input_gradient(dLdy, w[a:c], dx[:, a:c]))
        blocks = gemm_spans(self.in_features, flops, sharing=len(products))
        run_all([partial(product, a, c) for product in products for a, c in blocks])
        return dx

    def _flops(self, x):
        return 2 * x.shape[0] * self.in_features * self.out_features

    def absorb_normalization(self, mean: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> None:
        """Fold y' = (y - mean) * scale + shift per output feature (an inference BatchNorm) into W and b."""
        self.params["W"] = (self.params["W"] * scale).astype(np.float32)
        self.params["b"] = ((self.params["b"] - mean) * scale + shift).astype(np.float32)

    def pytorch_twin(self, nn, input_shape):
        return nn.Linear(self.in_features, self.out_features)
