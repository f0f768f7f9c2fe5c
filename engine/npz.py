"""Plain-array .npz files: JSON stored as uint8 bytes, atomic writes, never pickles."""

import json
from typing import Any

import numpy as np

from .atomic import atomic_open


def json_array(obj) -> np.ndarray:
    """JSON text of ``obj`` as a uint8 array, so metadata needs no pickle."""
    return np.frombuffer(json.dumps(obj, sort_keys=True).encode("utf-8"), np.uint8).copy()


def array_json(arr: np.ndarray):
    return json.loads(np.asarray(arr, np.uint8).tobytes().decode("utf-8"))


def write_npz_atomic(path, arrays: dict[str, np.ndarray], compress: bool = True) -> None:
    """Save ``arrays`` as .npz atomically (temporary file, fsync, rename)."""
    # NumPy's stubs check savez's **arrays against its allow_pickle: bool keyword; these are all array names.
    named: dict[str, Any] = arrays
    with atomic_open(path, "wb") as f:
        (np.savez_compressed if compress else np.savez)(f, **named)
