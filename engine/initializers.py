"""Weight initializers, each driven by an explicit ``np.random.Generator``.

He (Kaiming) normal suits ReLU networks: variance 2/fan_in keeps activations'
scale through depth. Xavier/Glorot uniform keeps variance for linear/tanh
layers: limit sqrt(6/(fan_in+fan_out)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np


def he_normal(shape, fan_in, fan_out, rng):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def xavier_uniform(shape, fan_in, fan_out, rng):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


INITIALIZERS = {"he": he_normal, "xavier": xavier_uniform}


class _WeightsComeLater:
    """The ``rng`` of a layer whose every weight is about to be overwritten (read from a model file,
    copied for inference): its weights start as zeros and no random numbers are drawn, so loading a
    model never imports NumPy's random module (in the page that is 0.1 s of compiling it)."""

    def __repr__(self):
        return "WEIGHTS_COME_LATER"


WEIGHTS_COME_LATER = _WeightsComeLater()

if TYPE_CHECKING:  # a name for annotations only: evaluating np.random would import it
    WeightsRng = np.random.Generator | _WeightsComeLater


def init_weights(name: str, shape, fan_in: int, fan_out: int, rng: WeightsRng) -> np.ndarray:
    """Weights of ``shape`` from the initializer called ``name`` ("he" or "xavier"); zeros when ``rng``
    is ``WEIGHTS_COME_LATER``."""
    if name in INITIALIZERS and rng is WEIGHTS_COME_LATER:
        return np.zeros(shape, np.float32)
    try:
        return INITIALIZERS[name](shape, fan_in, fan_out, rng)
    except KeyError:
        raise ValueError(f"unknown initializer {name!r}; choose one of {sorted(INITIALIZERS)}") from None
