"""A writer's examples as a file: ``save_examples`` / ``load_examples``, what the page exports
and what a training run can take as extra training images.

The file is an .npz of plain arrays, never pickles: ``examples_format`` (a scalar, 1),
``images`` uint8 (N, 28, 28), 0..255, ink bright on dark as ``engine.preprocess`` makes them
(times 255), and ``labels`` (N,) whole numbers 0..9. It is read the way a model file is
(``model_io.read_npz_arrays``: the zip directory and each npy header checked before any data
is read, sizes bounded, nothing else allowed in the file), so a hostile file is refused with
a ``ModelFormatError`` naming what is wrong.
"""

from pathlib import Path

import numpy as np

from .errors import ModelFormatError
from .model_io import check_file_size, npz_errors, read_npz_arrays
from .npz import write_npz_atomic

EXAMPLES_FORMAT = 1
MAX_EXAMPLES = 100_000  # 78 MB of images: far more than anyone draws
WHAT = "examples file"

__all__ = ["save_examples", "load_examples", "EXAMPLES_FORMAT"]


def save_examples(path, images, labels) -> None:
    """Write ``images`` ((N, 28, 28) uint8, or floats in [0, 1] scaled to 0..255) and ``labels`` atomically."""
    x = np.asarray(images)
    if x.dtype != np.uint8:
        x = np.clip(np.round(np.asarray(x, np.float64) * 255), 0, 255).astype(np.uint8)
    y = np.asarray(labels).astype(np.int64)
    _check(Path(path), x, y)
    arrays = {"examples_format": np.array(EXAMPLES_FORMAT, np.int64), "images": x, "labels": y}
    write_npz_atomic(path, arrays)


def load_examples(path) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) int64) of an examples file, fully validated."""
    path = Path(path)
    check_file_size(path, MAX_EXAMPLES * 800 + (1 << 20), WHAT)
    with npz_errors(path):
        head = read_npz_arrays(path, None, ("examples_format",), WHAT)
        version = head["examples_format"]
        if version.shape != () or version.dtype.kind not in "iu" or int(version) != EXAMPLES_FORMAT:
            raise ModelFormatError(
                f"{path}: examples_format {version!r} is not {EXAMPLES_FORMAT}; is this an examples file "
                "(the page's Export, or engine.save_examples)?"
            )
        labels = read_npz_arrays(path, None, ("examples_format", "labels"), WHAT)["labels"]
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise ModelFormatError(f"{path}: labels must be (N,) whole numbers, got {labels.dtype}{labels.shape}")
        n = len(labels)
        expected = {"images": ("uint8", (n, 28, 28)), "labels": (str(labels.dtype), (n,))}
        arrays = read_npz_arrays(path, expected, ("examples_format",), WHAT)
    x, labels = arrays["images"], arrays["labels"]
    if labels.dtype.kind == "u" and labels.size and labels.max() > 9:  # int64 would wrap 2**63 and up
        raise ModelFormatError(f"{path}: label {int(labels.max())} is not a digit 0..9")
    y = labels.astype(np.int64)
    _check(path, x, y)
    return x, y


def _check(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ModelFormatError(f"{path}: images must be (N, 28, 28), got {x.shape}")
    if y.shape != (len(x),):
        raise ModelFormatError(f"{path}: {len(x)} images but labels of shape {y.shape}; one label per image")
    if not len(y):
        raise ModelFormatError(f"{path}: no examples in the file")
    if len(y) > MAX_EXAMPLES:
        raise ModelFormatError(f"{path}: {len(y)} examples, at most {MAX_EXAMPLES}")
    bad = (y < 0) | (y > 9)
    if bad.any():
        raise ModelFormatError(f"{path}: label {int(y[bad][0])} is not a digit 0..9")
