"""The model's mistakes for the page: models/gallery.npz read, checked and put into words.

``digits/gallery.py`` writes the file (the shipped model's every MNIST test error, a few
right readings of each digit, the test set's confusion matrix, and the SHA-256 of the
model file it belongs to). This module reads it back without pickles, refuses a file
made for another model or of the wrong shapes with one clear line, and gives the page
what it draws: the entries a confusion-matrix cell stands for, captions, and each digit
as RGBA bytes. web/inside_panel.py owns the page elements.

Pure NumPy, no browser objects: tests/test_gallery.py runs it in CPython.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np

KEYS = ("images", "index", "labels", "predicted", "probabilities", "mistakes", "confusion", "model_sha256")
MAX_ENTRIES = 2000  # far more than any model worth shipping gets wrong; bounds what the page draws


class GalleryError(ValueError):
    """The gallery file is missing a part, has the wrong shapes, or belongs to another model."""


@dataclass(frozen=True)
class Gallery:
    images: np.ndarray  # (K, 28, 28) uint8, white ink on black, as in MNIST
    index: np.ndarray  # (K,) position in the MNIST test set
    labels: np.ndarray  # (K,) true digit
    predicted: np.ndarray  # (K,) the model's digit
    probabilities: np.ndarray  # (K, 10) the model's probabilities
    mistakes: int  # entries [0, mistakes) are wrong, the rest right
    confusion: np.ndarray  # (10, 10) counts over the whole test set: row = label, column = reading

    def entries(self, label: int | None = None, predicted: int | None = None) -> list[int]:
        """Entries for a confusion-matrix cell (or all of them): the wrong ones first, then the right ones."""
        keep = np.ones(len(self.labels), bool)
        if label is not None:
            keep &= self.labels == label
        if predicted is not None:
            keep &= self.predicted == predicted
        return [int(i) for i in np.flatnonzero(keep)]

    def caption(self, i: int) -> str:
        """'9 read as 4 (61%)' for a mistake, '7 (99%)' for a right reading."""
        label, read = int(self.labels[i]), int(self.predicted[i])
        p = f"{float(self.probabilities[i, read]):.0%}"
        return f"{label} read as {read} ({p})" if label != read else f"{label} ({p})"

    def description(self, i: int) -> str:
        """One line for a chosen entry: which test digit it is, what it is, what the model read, its top three."""
        probs = self.probabilities[i]
        top = ", ".join(f"{int(d)}: {float(probs[d]):.1%}" for d in np.argsort(-probs)[:3])
        verdict = "wrong" if i < self.mistakes else "right"
        return (
            f"MNIST test digit #{int(self.index[i])}: written as {int(self.labels[i])}, "
            f"the model read {int(self.predicted[i])} ({verdict}; {top})"
        )

    def rgba(self, i: int) -> bytes:
        """Entry ``i`` as RGBA bytes for a 28x28 canvas: dark ink on white, like the pad."""
        gray = 255 - self.images[i].astype(np.uint8)
        out = np.empty((28, 28, 4), np.uint8)
        out[..., :3] = gray[..., None]
        out[..., 3] = 255
        return out.tobytes()


def read_gallery(data: bytes, model_bytes: bytes) -> Gallery:
    """The gallery in ``data`` (the bytes of gallery.npz), checked against the model file's ``model_bytes``."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as f:
            missing = [k for k in KEYS if k not in f.files]
            if missing:
                raise GalleryError(f"the gallery file lacks {', '.join(missing)}")
            arrays = {k: f[k] for k in KEYS}
    except GalleryError:
        raise
    except Exception as exc:  # a damaged zip or npy header: one line, whatever numpy or zipfile raised
        raise GalleryError(f"the gallery file cannot be read ({type(exc).__name__}: {exc})") from None
    if str(arrays["model_sha256"]) != hashlib.sha256(model_bytes).hexdigest():
        raise GalleryError("the gallery was made for another model file (rebuild it: python scripts/make_gallery.py)")
    images, labels, predicted = arrays["images"], arrays["labels"], arrays["predicted"]
    k = len(labels)
    shapes_ok = (
        images.dtype == np.uint8
        and images.shape == (k, 28, 28)
        and 0 < k <= MAX_ENTRIES
        and labels.shape == predicted.shape == arrays["index"].shape == (k,)
        and arrays["probabilities"].shape == (k, 10)
        and arrays["confusion"].shape == (10, 10)
        and arrays["mistakes"].shape == ()
    )
    if not shapes_ok:
        raise GalleryError("the gallery file's arrays do not have the shapes the page expects")
    mistakes = int(arrays["mistakes"])
    if not 0 <= mistakes <= k or labels.max() > 9 or predicted.max() > 9:
        raise GalleryError("the gallery file's labels or mistake count are out of range")
    return Gallery(
        images,
        arrays["index"].astype(np.int64),
        labels.astype(np.int64),
        predicted.astype(np.int64),
        np.nan_to_num(arrays["probabilities"].astype(np.float32)),
        mistakes,
        arrays["confusion"].astype(np.int64),
    )
