"""Weight initializers, each driven by an explicit ``np.random.Generator``.

He (Kaiming) normal suits ReLU networks: variance 2/fan_in keeps activations'
scale through depth. Xavier/Glorot uniform keeps variance for linear/tanh
layers: limit sqrt(6/(fan_in+fan_out)).
"""

import numpy as np


def he_normal(shape, fan_in, fan_out, rng):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def xavier_uniform(shape, fan_in, fan_out, rng):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


INITIALIZERS = {"he": he_normal, "xavier": xavier_uniform}


def init_weights(name: str, shape, fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Weights of ``shape`` from the initializer called ``name`` ("he" or "xavier")."""
    try:
        return INITIALIZERS[name](shape, fan_in, fan_out, rng)
    except KeyError:
        raise ValueError(f"unknown initializer {name!r}; choose one of {sorted(INITIALIZERS)}") from None
