"""What the shipped model trains on beyond MNIST: styles MNIST lacks, and things that are not digits.

MNIST's census writers rarely slash a zero, flag a one or cross a seven, and MNIST has
no "not a digit" at all. ``extend`` adds both to the training split: ``styled``
digits (``digits/styles.py``: MNIST training digits edited into those styles, and
digits rendered from strokes) with their labels, and ``negatives`` (letters and
symbols in the training fonts, scribbles, fragments of training digits, Fashion-MNIST
clothes, ...; ``digits/negatives.py``) labelled ``NOT_A_DIGIT``, the model's eleventh
output. ``validation_negatives`` draws a separate set, from its own seed, that picks
the rejection threshold, which must keep the validation digits, MNIST's and styled ones
(``validation_styled``); the held-out fonts and letters stay for the final report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.images import unit_float
from engine.rejection import NOT_A_DIGIT

from . import negatives as negative_kinds

VALIDATION_NEGATIVES = 2000
VALIDATION_STYLED = 2000
SEED_OFFSET = {
    "styles": 101,
    "negatives": 202,
    "validation": 303,
    "validation styles": 505,
}  # independent streams per seed


@dataclass(frozen=True)
class Mix:
    """How many extra images a run adds to its MNIST training split."""

    negatives: int = 0
    styled: int = 0

    @property
    def outputs(self) -> int:
        """10 digits, plus "not a digit" when the run trains on negatives."""
        return NOT_A_DIGIT + 1 if self.negatives else NOT_A_DIGIT


def extend(mix: Mix, seed: int, train_images: np.ndarray, train_labels: np.ndarray, log=print):
    """(images float32 in [0, 1], labels int64): the MNIST training images (uint8) and labels,
    then ``mix.styled`` styled digits, then ``mix.negatives`` negatives labelled NOT_A_DIGIT."""
    images, labels = [train_images], [train_labels.astype(np.int64)]
    if mix.styled:
        from .styles import styled_digits  # Pillow-drawn strokes: only runs that ask for styles need it

        log(f"Drawing {mix.styled} digits in styles MNIST lacks")
        styled, styled_labels = styled_digits(
            np.random.default_rng(seed + SEED_OFFSET["styles"]), mix.styled, train_images, train_labels
        )
        images.append(styled)
        labels.append(styled_labels.astype(np.int64))
    if mix.negatives:
        log(f"Drawing {mix.negatives} negatives (letters, symbols, scribbles, fragments, ...) as 'not a digit'")
        drawn = negative_kinds.negatives(
            np.random.default_rng(seed + SEED_OFFSET["negatives"]), mix.negatives, digits=train_images
        )
        images.append(drawn)
        labels.append(np.full(len(drawn), NOT_A_DIGIT, np.int64))
    return unit_float(np.concatenate(images)), np.concatenate(labels)


def validation_styled(seed: int, val_images: np.ndarray, val_labels: np.ndarray, count: int = VALIDATION_STYLED):
    """(images uint8, labels) of styled digits for validation: drawn from their own seed, the MNIST
    edits made on validation digits. The threshold must keep these too: they are digits people write."""
    from .styles import styled_digits

    return styled_digits(np.random.default_rng(seed + SEED_OFFSET["validation styles"]), count, val_images, val_labels)


def validation_negatives(seed: int, val_images: np.ndarray, count: int = VALIDATION_NEGATIVES) -> np.ndarray:
    """(count, 28, 28) uint8 negatives for choosing the threshold: the training fonts and kinds,
    drawn from their own seed, with fragments of validation digits (never trained on)."""
    return negative_kinds.negatives(np.random.default_rng(seed + SEED_OFFSET["validation"]), count, digits=val_images)
