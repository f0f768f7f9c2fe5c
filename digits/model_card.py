"""The model card: one schema for what a model file says about itself.

Written by training (the float model's card) and by the int8 export (which adds
its fields), stored as JSON inside the model file and beside it in models/, read
by the page's "About the model" panel (web/card.py) and by the benchmark report.
Everyone reads the fields by attribute, so a renamed field fails loudly instead
of silently vanishing from the page. Pure standard library: the page loads this
file too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class ModelCard:
    # -- written by training -----------------------------------------------------------
    name: str | None = None  # "mnist-cnn"
    arch: str | None = None  # the architecture's name: "cnn" or "mlp"
    parameters: int | None = None  # trainable numbers (weights and biases)
    test_accuracy: float | None = None  # of this file's model, on MNIST's 10,000 test images
    per_class_accuracy: list | None = None  # recall of each digit 0-9 on the test set
    val_accuracy: float | None = None  # on the validation split, which chose everything
    best_epoch: int | None = None  # the epoch whose weights were kept
    epochs_run: int | None = None
    train_data_sha256: str | None = None  # of the training images and labels
    train_images: int | None = None
    created: str | None = None  # ISO 8601, UTC
    command: str | None = None  # the command line that trained it
    train_seconds: float | None = None  # training and validation, every epoch
    engine_version: str | None = None
    numpy_version: str | None = None
    outputs: int | None = None  # 10 digits, or 11 with "not a digit"
    styled_trained: int | None = None  # digits in styles MNIST lacks added to training (digits/styles.py)
    negatives_trained: int | None = None  # "not a digit" examples added to training (digits/negatives.py)
    # -- added by the int8 export ----------------------------------------------------
    kind: str | None = None  # "float32" or "int8"
    inference: str | None = None  # int8 files: "int8" or "dequantized"
    calibration: str | None = None  # int8 files: "max" or "percentile"
    float_test_accuracy: float | None = None  # the float model it was quantized from
    agreement_with_float: float | None = None  # share of test images both predict alike
    file_bytes: int | None = None  # size of the model file
    # -- "not a digit" (the rule the export chose on validation, and what it rejects) --------
    reject_threshold: float | None = None  # rejection score from which an image is not a digit
    reject_min_ink: float | None = None  # mean ink below which an image is empty
    val_digits_kept: float | None = None  # share of the validation digits the rule keeps
    val_styled_kept: float | None = None  # of styled validation digits (slashed 0s, flagged 1s, ...)
    val_negatives_rejected: float | None = None  # of negatives drawn like the training ones, own seed
    heldout_letters_rejected: float | None = None  # the target letters, in fonts training never used
    heldout_negatives_rejected: float | None = None  # symbols in held-out fonts, Fashion-MNIST test, drawn shapes
    # Fields this version does not know (a newer trainer's, or a user's), kept as they are.
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data) -> ModelCard:
        """A card from a file's JSON; unknown fields go to ``extra``, anything but a dict gives an empty card."""
        if not isinstance(data, dict):
            return cls()
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            **{k: v for k, v in data.items() if k in known}, extra={k: v for k, v in data.items() if k not in known}
        )

    def to_dict(self) -> dict:
        """The JSON a file stores: known fields that are set, in schema order, then the extra ones."""
        out = {k: v for k, v in asdict(self).items() if k != "extra" and v is not None}
        out.update(self.extra)
        return out

    def updated(self, **changes) -> ModelCard:
        """A copy with ``changes`` (known field names only: a typo is a TypeError)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(changes)
        return ModelCard(**data)


FIELD_NAMES = tuple(f.name for f in fields(ModelCard) if f.name != "extra")
