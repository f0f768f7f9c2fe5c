"""Layers, one small class per file, each registered by its class name when its module is imported.

Every module of this package is imported here, so a new layer is one new file:
its class defines ``spec`` (shapes, arrays, flops) and its arithmetic, and the
model, the model file, quantization and the benchmarks find it by name.
"""

import importlib
import pkgutil

from .activations import ReLU
from .base import INT8_TWINS, LAYER_TYPES, Layer, LayerSpec, build_layer, layer_class
from .batchnorm import BatchNorm
from .conv2d import Conv2D
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .maxpool2d import MaxPool2D
from .quantized import QuantizedConv2D, QuantizedDense

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "Layer",
    "LayerSpec",
    "Dense",
    "Conv2D",
    "MaxPool2D",
    "ReLU",
    "Dropout",
    "BatchNorm",
    "Flatten",
    "QuantizedDense",
    "QuantizedConv2D",
    "LAYER_TYPES",
    "INT8_TWINS",
    "build_layer",
    "layer_class",
]
