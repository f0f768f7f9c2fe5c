"""The model's mistakes on the MNIST test set, as the page's "Inside the model" panel shows them.

``find_mistakes`` reads the whole test set once (``predict_proba``, the reading the model
card's test accuracy counts) and returns every digit the model gets wrong, a fixed sample
of digits it reads right (a few of each digit, so every cell on the confusion matrix's
diagonal has examples) and the 10x10 confusion matrix. ``python -m digits mistakes``
writes them as PNG contact sheets and a CSV; ``write_gallery`` packs them into a small
``.npz`` beside the model (``models/gallery.npz``, ~80 KB uncompressed, ~25 KB deflated) that the page loads,
stamped with the SHA-256 of the model file it was made for so the page never shows one
model's mistakes under another. ``python scripts/make_gallery.py`` rebuilds it for the
shipped model; the training export rebuilds it whenever it installs a model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import atomic_open

RIGHT_PER_DIGIT = 4  # digits read right kept per label, for the diagonal of the confusion matrix
GALLERY_NAME = "gallery.npz"


@dataclass(frozen=True)
class Mistakes:
    wrong: np.ndarray  # (E,) test indices the model reads wrong, ascending
    right: np.ndarray  # (R,) a sample of test indices it reads right, ascending
    predicted: np.ndarray  # (N,) the model's digit for every test image
    probabilities: np.ndarray  # (N, 10) float32, predict_proba of every test image
    confusion: np.ndarray  # (10, 10) int64: row = label, column = the model's digit


def find_mistakes(model, images: np.ndarray, labels: np.ndarray, per_digit: int = RIGHT_PER_DIGIT, seed: int = 0):
    """Every test digit ``model`` reads wrong, ``per_digit`` right ones of each label (seeded), the confusion matrix."""
    labels = np.asarray(labels).astype(np.int64)
    probs = np.asarray(model.predict_proba(images), np.float32)
    predicted = probs.argmax(axis=1)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    rng = np.random.default_rng(seed)
    right = [
        rng.choice(pool, min(per_digit, len(pool)), replace=False)
        for d in range(10)
        if len(pool := np.flatnonzero((predicted == labels) & (labels == d)))
    ]
    sample = np.sort(np.concatenate(right)) if right else np.zeros(0, np.int64)
    return Mistakes(np.flatnonzero(predicted != labels), sample, predicted, probs, confusion)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def gallery_arrays(found: Mistakes, images: np.ndarray, labels: np.ndarray, model_sha256: str) -> dict:
    """The arrays of ``gallery.npz``: the mistakes first, then the right ones, each with its reading."""
    keep = np.concatenate([found.wrong, found.right]).astype(np.int64)
    return {
        "images": np.asarray(images)[keep].astype(np.uint8),  # (K, 28, 28) as in the test set
        "index": keep.astype(np.int32),  # position in the MNIST test set
        "labels": np.asarray(labels)[keep].astype(np.uint8),
        "predicted": found.predicted[keep].astype(np.uint8),
        "probabilities": found.probabilities[keep].astype(np.float32),
        "mistakes": np.array(len(found.wrong), np.int32),  # the first ``mistakes`` entries are wrong
        "confusion": found.confusion.astype(np.int32),
        "model_sha256": np.array(model_sha256),
    }


def write_gallery(path: Path, model, model_path: Path, images: np.ndarray, labels: np.ndarray) -> int:
    """Find the mistakes of the model at ``model_path`` and write them to ``path`` atomically; returns their count."""
    found = find_mistakes(model, images, labels)
    arrays = gallery_arrays(found, images, labels, file_sha256(model_path))
    with atomic_open(Path(path), "wb") as f:
        np.savez_compressed(f, **arrays)
    return len(found.wrong)
