"""The contract every layer follows, and the registry that makes a layer known by its name.

A layer holds its parameters and their gradients in dicts keyed by the same
names (``W``, ``b``, ``gamma`` ...), so optimizers, saving and quantization are
loops over names. ``forward`` keeps exactly what ``backward`` needs and nothing
more; ``backward`` takes dL/dy, fills ``grads`` and returns dL/dx.
Non-trainable state that must be saved (BatchNorm's running statistics) lives
in ``buffers``.

A layer describes itself once, from its config alone and without allocating
anything (the idea of stax's ``init_fun``): ``spec(config, input_shape)`` gives
its output shape, the arrays a model file holds for it and its flops. The model,
the model file's validation, quantization and the benchmarks all ask ``spec``;
none of them knows a layer type by name. Defining a subclass registers it, so a
new layer is one new file in this package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..initializers import WEIGHTS_COME_LATER

if TYPE_CHECKING:
    from ..initializers import WeightsRng
from . import config_fields

# Every layer type by its config name ("Dense", ...); filled by defining subclasses.
LAYER_TYPES: dict[str, type[Layer]] = {}
# The int8 inference twin of a float layer type, by the float type's name ("Dense" -> QuantizedDense).
INT8_TWINS: dict[str, type[Layer]] = {}


@dataclass(frozen=True)
class LayerSpec:
    """What a layer is for one input shape, known before any array exists."""

    output_shape: tuple  # one sample's output (no batch axis)
    arrays: dict[str, tuple[str, tuple]] = field(default_factory=dict)  # {name: (dtype, shape)} in a model file
    flops: int = 0  # forward matrix-product flops per sample
    working: int = 0  # elements of the largest array its forward builds per sample (a convolution's patches)


class Layer:
    """Base class: no parameters, no config fields, identity shape."""

    # The model clears this on its first layer: nobody needs dL/d(image), and for a
    # Dense or Conv2D layer skipping it saves a whole matrix product.
    needs_input_grad = True
    # Layers with randomly initialized weights take the model's generator in their constructor.
    takes_rng = False

    def __init_subclass__(cls, register: bool = True, int8_twin_of: str | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if int8_twin_of is not None:
            INT8_TWINS[int8_twin_of] = cls
        elif register:
            LAYER_TYPES[cls.__name__] = cls

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}

    # -- the description -------------------------------------------------------------
    @classmethod
    def check_config(cls, config: dict) -> dict:
        """Constructor arguments from ``config``, each checked by type and range (ValueError if not)."""
        config_fields.only(config, ())
        return {}

    @classmethod
    def spec(cls, config: dict, input_shape: tuple) -> LayerSpec:
        """Output shape, file arrays and flops for one sample of ``input_shape``; ValueError if they disagree."""
        cls.check_config(config)
        return LayerSpec(tuple(input_shape))

    @classmethod
    def from_config(cls, config: dict, rng: WeightsRng | None = None) -> Layer:
        kwargs = cls.check_config(config)
        if cls.takes_rng:
            kwargs = {**kwargs, "rng": rng}
        return cls(**kwargs)

    def config(self) -> dict:
        """JSON-serializable constructor arguments; ``type`` names the class."""
        return {"type": type(self).__name__}

    def output_shape(self, input_shape: tuple) -> tuple:
        """Shape of one sample's output given one sample's input shape (no batch axis)."""
        return type(self).spec(self.config(), tuple(input_shape)).output_shape

    # -- the arithmetic --------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False, rng: np.random.Generator | None = None) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dLdy: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    # -- the arrays a model file holds ------------------------------------------------
    def file_arrays(self) -> dict[str, np.ndarray]:
        """Every array that defines this layer (parameters and buffers), by name."""
        return {**self.params, **self.buffers}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy parameters in place (optimizers keep references to them); replace buffers."""
        for name in self.params:
            self.params[name][...] = arrays[name]
        for name in self.buffers:
            self.buffers[name] = np.array(arrays[name], dtype=np.float32)

    # -- inference -------------------------------------------------------------------
    def for_inference(self, previous: Layer | None) -> Layer | None:
        """This layer as an inference-only network has it: a copy of itself by default; ``None``
        when it vanishes (Dropout) or merges into ``previous`` (BatchNorm into a Conv2D or Dense)."""
        copy = type(self).from_config(self.config(), WEIGHTS_COME_LATER)
        for name, value in self.params.items():
            copy.params[name] = value.copy()
        for name, value in self.buffers.items():
            copy.buffers[name] = value.copy()
        return copy

    def pytorch_twin(self, nn, input_shape: tuple):
        """The same layer in PyTorch (``nn`` is ``torch.nn``, passed in: the engine never imports
        PyTorch), for the benchmarks' reference; NCHW where this layer is NHWC."""
        raise NotImplementedError(f"{type(self).__name__} has no PyTorch twin")


def build_layer(config: dict, rng: WeightsRng | None = None, kind: str = "float32") -> Layer:
    """A layer from ``config`` ({"type": name, **constructor arguments}); ValueError if unknown.

    ``kind="int8"`` gives the int8 twin's class where one exists (the caller then gives it arrays).
    """
    return layer_class(config, kind).from_config(config, rng)


def layer_class(config: dict, kind: str = "float32") -> type[Layer]:
    """The class a config names, or its int8 twin for ``kind="int8"``; ValueError if unknown."""
    name = config.get("type") if isinstance(config, dict) else None
    if not isinstance(name, str) or name not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {name!r:.60}; known types: {sorted(LAYER_TYPES)}")
    return INT8_TWINS.get(name, LAYER_TYPES[name]) if kind == "int8" else LAYER_TYPES[name]
