"""Int8 post-training quantization: from a trained float model to a ``QuantizedModel``.

Steps (``quantize``):
1. Every layer takes its inference form (``Layer.for_inference``): each BatchNorm is
   folded into the Conv2D/Dense before it (W' = W*s, b' = (b-mean)*s + beta,
   s = gamma/sqrt(var+eps)) and Dropout vanishes.
2. Weights of every layer that has an int8 twin: symmetric int8 per output channel,
   scale = max|W[..., c]| / 127, values in [-127, 127]. Biases stay float32.
3. Activations: one static scale per such layer's input, calibrated on a few hundred
   training images, from the maximum or from a high percentile (clipping rare outliers
   buys resolution for the rest); the caller picks the method by validation accuracy.

The int8 layers themselves, and their two inference paths, are in ``layers/quantized.py``.
"""

import numpy as np

from .layers import INT8_TWINS, Layer
from .layers.quantized import EXACT_FLOAT32_TERMS, INFERENCE_MODES, quantize_weights
from .model import Sequential
from .quantized_model import QuantizedModel

CALIBRATION_METHODS = ("max", "percentile")

__all__ = [
    "fold_batchnorm",
    "calibrate",
    "quantize",
    "quantize_weights",
    "QuantizedModel",
    "EXACT_FLOAT32_TERMS",
    "INFERENCE_MODES",
    "CALIBRATION_METHODS",
]


def int8_twin(layer: Layer):
    """The int8 class that quantizes ``layer``, or None for layers that run as they are."""
    return INT8_TWINS.get(type(layer).__name__)


def fold_batchnorm(model: Sequential) -> Sequential:
    """An inference-only float copy of ``model``: BatchNorm folded in, Dropout removed."""
    layers: list[Layer] = []
    for layer in model.layers:
        inference_layer = layer.for_inference(layers[-1] if layers else None)
        if inference_layer is not None:
            layers.append(inference_layer)
    return Sequential(layers, model.input_shape, dict(model.card), model.reject)


def calibrate(folded: Sequential, images: np.ndarray, method: str = "max", percentile: float = 99.99) -> list[float]:
    """Input-activation scale for each layer of ``folded`` that has an int8 twin, from float32 ``images``."""
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"unknown calibration method {method!r}; use one of {list(CALIBRATION_METHODS)}")
    scales, x = [], images
    for layer in folded.layers:
        if int8_twin(layer) is not None:
            mags = np.abs(x)
            peak = float(mags.max()) if method == "max" else float(np.percentile(mags, percentile))
            scales.append(max(peak, 1e-8) / 127.0)
        x = layer.forward(x)
    return scales


def quantize(
    model: Sequential, calibration_images: np.ndarray, method: str = "max", inference: str = "int8"
) -> QuantizedModel:
    """Post-training int8 quantization of a trained float ``model``.

    ``calibration_images``: float32 (N, 28, 28) in [0, 1], a few hundred training images.
    """
    folded = fold_batchnorm(model)
    x = calibration_images.reshape((len(calibration_images),) + folded.input_shape).astype(np.float32)
    x_scales = iter(calibrate(folded, x, method))
    arrays = {}
    for i, layer in enumerate(folded.layers):
        twin = int8_twin(layer)
        layer_arrays = twin.quantized_arrays(layer, next(x_scales)) if twin else layer.file_arrays()
        arrays.update({f"{i}.{name}": value for name, value in layer_arrays.items()})
    architecture = {"kind": "int8", "inference": inference, "calibration": method, **folded.config()}
    return QuantizedModel(architecture, arrays, getattr(model, "preprocessing", None), model.card)
