"""Layers, one small class per file, and ``build_layer`` to make one from its config."""

import numpy as np

from .activations import ReLU
from .base import Layer
from .batchnorm import BatchNorm
from .conv2d import Conv2D
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .maxpool2d import MaxPool2D

LAYER_TYPES = {cls.__name__: cls for cls in (Dense, Conv2D, MaxPool2D, ReLU, Dropout, BatchNorm, Flatten)}


def build_layer(config: dict, rng: np.random.Generator | None = None) -> Layer:
    """A layer from ``config`` ({"type": name, **constructor arguments}); raises ValueError if unknown."""
    if not isinstance(config, dict) or config.get("type") not in LAYER_TYPES:
        raise ValueError(f"unknown layer config {config!r}; known types: {sorted(LAYER_TYPES)}")
    kwargs = {k: v for k, v in config.items() if k != "type"}
    cls = LAYER_TYPES[config["type"]]
    if cls in (Dense, Conv2D):
        kwargs["rng"] = rng
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad arguments for layer {config['type']}: {exc}") from None


__all__ = ["Layer", "Dense", "Conv2D", "MaxPool2D", "ReLU", "Dropout", "BatchNorm", "Flatten",
           "LAYER_TYPES", "build_layer"]
