"""The int8 model: an inference-only stack whose Conv2D/Dense layers are their int8 twins."""

import numpy as np

from .classifier import Classifier
from .layers import build_layer
from .layers.quantized import INFERENCE_MODES, QuantizedLayer
from .rejection import RejectRule


class QuantizedModel(Classifier):
    """Built from an int8 file's architecture and arrays ("<layer index>.<name>"), as ``quantize``
    makes them or ``load_model`` reads them; ``inference`` picks the path of every int8 layer."""

    def __init__(self, architecture: dict, arrays: dict, preprocessing: dict | None = None, card: dict | None = None):
        self.architecture = dict(architecture)
        self.inference = architecture.get("inference", "int8")
        if self.inference not in INFERENCE_MODES:
            raise ValueError(f"unknown inference mode {self.inference!r}; use one of {INFERENCE_MODES}")
        self.input_shape = tuple(architecture["input_shape"])
        if "reject" in architecture:
            self.reject_rule = RejectRule.from_config(architecture["reject"])
        self.preprocessing, self.card = dict(preprocessing or {}), dict(card or {})
        self.layers = []
        for i, config in enumerate(architecture["layers"]):
            layer = build_layer(config, kind="int8")
            own = {
                key.split(".", 1)[1]: np.asarray(value)
                for key, value in arrays.items()
                if key.split(".", 1)[0] == str(i)
            }
            try:
                if isinstance(layer, QuantizedLayer):
                    layer.load_arrays(own, self.inference)
                else:
                    layer.load_arrays(own)
            except ValueError as exc:
                raise ValueError(f"layer {i} ({config['type']}): {exc}") from None
            self.layers.append(layer)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Every layer's file arrays, keyed "<layer index>.<name>"."""
        return {
            f"{i}.{name}": value for i, layer in enumerate(self.layers) for name, value in layer.file_arrays().items()
        }

    def logits(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def file_contents(self) -> tuple[dict, dict]:
        """(architecture, arrays) for ``save_model``."""
        return self.architecture, self.arrays

    def with_inference(self, mode: str) -> "QuantizedModel":
        """The same weights read by the other inference path."""
        return QuantizedModel({**self.architecture, "inference": mode}, self.arrays, self.preprocessing, self.card)

    def with_reject_rule(self, rule: RejectRule) -> "QuantizedModel":
        """The same model with another "not a digit" rule (the threshold training chose)."""
        return QuantizedModel(
            {**self.architecture, "reject": rule.config()}, self.arrays, self.preprocessing, self.card
        )

    def count_params(self) -> int:
        return int(sum(a.size for k, a in self.arrays.items() if k.endswith((".W", ".b"))))
