"""The Sequential model: a list of layers applied in order.

The prediction API it shares with the int8 model (``predict_proba``, ``predict``,
rejection) is ``classifier.Classifier``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .classifier import Classifier
from .layers import BatchNorm, Layer, MaxPool2D, ReLU, build_layer
from .rejection import RejectRule

if TYPE_CHECKING:
    from .initializers import WeightsRng

__all__ = ["Classifier", "Sequential"]


class Sequential(Classifier):
    """Layers applied in order; ``input_shape`` is one sample's shape, e.g. (28, 28, 1) or (784,)."""

    def __init__(
        self, layers: list[Layer], input_shape: tuple, card: dict | None = None, reject: RejectRule | None = None
    ):
        self.layers = list(layers)
        self.reject = reject  # the rejection rule this model carries in its file, if any
        if reject is not None:
            self.reject_rule = reject
        self.input_shape = tuple(int(d) for d in input_shape)
        self.card = dict(card or {})
        shape = self.input_shape
        for layer in self.layers:  # validates that consecutive shapes agree
            shape = layer.output_shape(shape)
        self.output_shape = shape
        if self.layers:
            self.layers[0].needs_input_grad = False  # nobody needs dL/d(image)
        self._fuse_batchnorm_relu()
        self._pack_parameters()

    def _fuse_batchnorm_relu(self) -> None:
        """Let each BatchNorm apply the ReLU right after it, in training (the same arithmetic,
        fewer passes over the activations; the layer list and its configs stay as they are)."""
        for norm, relu in zip(self.layers, self.layers[1:]):
            if isinstance(norm, BatchNorm) and isinstance(relu, ReLU):
                norm.relu_after = relu.fused_into_previous = True
        # A max-pool after such a ReLU sends no gradient to windows whose maximum is 0, the only
        # places where the ReLU's output is 0 and a gradient could arrive: the BatchNorm's mask is
        # then already applied, and it skips it (a comparison and a product per element).
        for norm, pool in zip(self.layers, self.layers[2:]):  # relu_after: a ReLU between them
            if isinstance(norm, BatchNorm) and norm.relu_after and isinstance(pool, MaxPool2D):
                norm.relu_masked_after = pool.after_relu = True

    def _pack_parameters(self) -> None:
        """Move every parameter into one flat buffer and every gradient into another; layers keep views.

        The optimizer can then update the whole model as one long vector, with no
        gathering and scattering per step. Layers write parameters and gradients in
        place, so the views stay valid for the model's life.
        """
        triples = self.parameters()
        if not triples or len({p.dtype for _, p, _ in triples} | {g.dtype for _, _, g in triples}) != 1:
            return
        total = sum(p.size for _, p, _ in triples)
        flat_params, flat_grads = np.empty(total, triples[0][1].dtype), np.zeros(total, triples[0][1].dtype)
        start = 0
        for layer in self.layers:
            for name in layer.params:
                size, shape = layer.params[name].size, layer.params[name].shape
                flat_params[start : start + size] = layer.params[name].reshape(-1)
                layer.params[name] = flat_params[start : start + size].reshape(shape)
                layer.grads[name] = flat_grads[start : start + size].reshape(shape)
                start += size

    @classmethod
    def from_config(cls, config: dict, rng: WeightsRng | None = None, card: dict | None = None):
        """Build from ``{"input_shape": [...], "layers": [layer configs]}``, weights drawn from ``rng``."""
        rng = rng if rng is not None else np.random.default_rng(0)
        reject = RejectRule.from_config(config["reject"]) if "reject" in config else None
        return cls([build_layer(c, rng) for c in config["layers"]], config["input_shape"], card, reject)

    def config(self) -> dict:
        config: dict = {"input_shape": list(self.input_shape), "layers": [layer.config() for layer in self.layers]}
        if self.reject is not None:
            config["reject"] = self.reject.config()
        return config

    def forward(self, x: np.ndarray, training: bool = False, rng: np.random.Generator | None = None) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training=training, rng=rng)
        return x

    def backward(self, dLdy: np.ndarray) -> None:
        grad: np.ndarray | None = dLdy
        for layer in reversed(self.layers):
            assert grad is not None, "only the first layer may skip dL/dx"
            grad = layer.backward(grad)  # None after a first layer that skips dL/dx

    def logits(self, x):
        return self.forward(x, training=False)

    def parameters(self):
        """(key, parameter, gradient) for every trainable array; keys look like "3.W"."""
        return [
            (f"{i}.{name}", layer.params[name], layer.grads[name])
            for i, layer in enumerate(self.layers)
            for name in layer.params
        ]

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Every array that defines the model (parameters and buffers), keyed "index.name"."""
        return {f"{i}.{name}": arr for i, layer in enumerate(self.layers) for name, arr in layer.file_arrays().items()}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy arrays in place (optimizers keep references to the parameter arrays)."""
        for i, layer in enumerate(self.layers):
            layer.load_arrays({name: arrays[f"{i}.{name}"] for name in layer.file_arrays()})

    def count_params(self) -> int:
        return int(sum(p.size for _, p, _ in self.parameters()))
