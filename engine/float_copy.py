"""A float32 working copy of an int8 model, for training: the inverse of ``quantize`` up to rounding.

Every int8 Conv2D/Dense becomes its float layer with W = W_q * W_scale and the float32 bias
(BatchNorm was folded into them at quantization, so the copy has no BatchNorm and no
Dropout); every other layer (ReLU, MaxPool2D, Flatten) is rebuilt from its config. The copy
predicts like the int8 model's "dequantized" inference path, and its gradients are the
engine's own float layers' (``layers/``), so ``Trainer`` and the optimizers can train it.
"""

import numpy as np

from .layers import Layer, build_layer
from .layers.quantized import QuantizedLayer
from .model import Sequential
from .quantized_model import QuantizedModel

__all__ = ["dequantized_layer", "float_copy"]


def dequantized_layer(layer: Layer) -> Layer:
    """A new float layer computing what ``layer`` computes (int8 twins dequantized, others copied)."""
    if isinstance(layer, QuantizedLayer):
        w_q, w_scale, b = layer.stored["W"], layer.stored["W_scale"], layer.stored["b"]
        copy = build_layer(layer.config())
        copy.params["W"][...] = (w_q.astype(np.float32) * w_scale).astype(np.float32)
        copy.params["b"][...] = b.astype(np.float32)
        return copy
    return layer.for_inference(None) or build_layer(layer.config())


def float_copy(model: QuantizedModel, start: int = 0, input_shape: tuple | None = None) -> Sequential:
    """The float32 Sequential of ``model.layers[start:]`` (all of them by default).

    ``input_shape``: one sample's input to layer ``start``; the model's own for ``start=0``.
    The copy carries the model's card and "not a digit" rule."""
    if not isinstance(model, QuantizedModel):
        raise TypeError(f"float_copy takes an int8 QuantizedModel, got {type(model).__name__}")
    if input_shape is None:
        if start:
            raise ValueError("give the input_shape of layer start when copying only the top of a model")
        input_shape = model.input_shape
    layers = [dequantized_layer(layer) for layer in model.layers[start:]]
    reject = model.reject_rule if "reject" in model.architecture else None
    return Sequential(layers, input_shape, dict(model.card), reject)
