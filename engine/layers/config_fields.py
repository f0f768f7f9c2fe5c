"""Checked reads of a layer config's fields: ints are ints, floats are finite, each in its range.

A config comes from JSON inside a model file, so anything can be in it: a bool
where a size belongs (``True == 1``), ``28.0``, NaN, a list, an extra key. Each
reader raises ValueError naming the field and what it must be; the model file's
loader turns that into a ModelFormatError.
"""

import math

MAX_SIZE = 1 << 16  # features, channels, kernels, pool sizes: far above any digit model
_REQUIRED = object()


def _value(config: dict, name: str, default):
    if name in config:
        return config[name]
    if default is _REQUIRED:
        raise ValueError(f"{config.get('type')} needs the field {name!r}")
    return default


def integer(config: dict, name: str, low: int = 1, high: int = MAX_SIZE, default=_REQUIRED) -> int:
    """``config[name]`` as an int in [low, high] (not a bool, not a float)."""
    value = _value(config, name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{config.get('type')}.{name} must be an integer from {low} to {high}, got {value!r:.40}")
    return value


def real(config: dict, name: str, low: float, high: float, default=_REQUIRED, high_open: bool = False) -> float:
    """``config[name]`` as a finite float in [low, high] (or [low, high) with ``high_open``)."""
    value = _value(config, name, default)
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value
        and (value < high if high_open else value <= high)
    )
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{config.get('type')}.{name} must be a number in [{low}, {high}{bracket}, got {value!r:.40}")
    return float(value)


def choice(config: dict, name: str, choices: tuple, default=_REQUIRED):
    value = _value(config, name, default)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{config.get('type')}.{name} must be one of {list(choices)}, got {value!r:.40}")
    return value


def only(config: dict, names: tuple) -> None:
    """Refuse keys other than ``type`` and ``names``: a typo must not be silently ignored."""
    extra = [key for key in config if key != "type" and key not in names]
    if extra:
        raise ValueError(f"{config.get('type')} has unknown field {extra[0]!r:.40}; it takes {list(names)}")


def shape_is(input_shape: tuple, expected: tuple, layer: str) -> None:
    if tuple(input_shape) != tuple(expected):
        raise ValueError(f"{layer} expects input shape {tuple(expected)}, got {tuple(input_shape)}")


def image_shape(input_shape: tuple, layer: str) -> tuple[int, int, int]:
    """(H, W, C) of a channels-last image input, or ValueError."""
    if len(input_shape) != 3:
        raise ValueError(f"{layer} expects images (H, W, C), got input shape {tuple(input_shape)}")
    return tuple(input_shape)
