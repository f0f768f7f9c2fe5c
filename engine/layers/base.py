"""The contract every layer follows.

A layer holds its parameters and their gradients in dicts keyed by the same
names (``W``, ``b``, ``gamma`` ...), so optimizers, saving and quantization are
loops over names. ``forward`` keeps exactly what ``backward`` needs and nothing
more; ``backward`` takes dL/dy, fills ``grads`` and returns dL/dx.
Non-trainable state that must be saved (BatchNorm's running statistics) lives
in ``buffers``.
"""

import numpy as np


class Layer:
    """Base class: no parameters, identity shape."""

    # The model clears this on its first layer: nobody needs dL/d(image), and for a
    # Dense or Conv2D layer skipping it saves a whole matrix product.
    needs_input_grad = True

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, training: bool = False, rng: np.random.Generator | None = None) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dLdy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def output_shape(self, input_shape: tuple) -> tuple:
        """Shape of one sample's output given one sample's input shape (no batch axis)."""
        return tuple(input_shape)

    def config(self) -> dict:
        """JSON-serializable constructor arguments; ``type`` names the class."""
        return {"type": type(self).__name__}

    def expected_arrays(self, input_shape: tuple) -> dict[str, tuple]:
        """Names and shapes of every saved array (params + buffers) for this input shape."""
        return {name: value.shape for name, value in {**self.params, **self.buffers}.items()}
