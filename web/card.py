"""The model card (``model.card``, read through ``model_card.ModelCard``) as rows for the "About the model" panel.

Pure Python: the page builds the table from these rows, and tests/test_web_card.py
checks the wording in CPython. Fields are read by attribute from the one schema in
digits/model_card.py, so a renamed field breaks a test, not the page. Fields of the
schema that the main rows do not show, and fields it does not know, go to the
"more" rows, so a card that grows stays visible.
"""

from __future__ import annotations

from model_card import FIELD_NAMES, ModelCard


def pct(value, digits: int = 2) -> str:
    return f"{float(value):.{digits}%}" if isinstance(value, (int, float)) else str(value)


def _count(value) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else str(value)


def _weights(card: ModelCard) -> str | None:
    if not card.kind:
        return None
    parts = [str(card.kind)]
    if card.calibration:
        parts.append(f"{card.calibration} calibration")
    if card.inference:
        parts.append(f"{card.inference} inference")
    return ", ".join(parts)


def _training(card: ModelCard) -> str | None:
    bits = []
    if card.train_images is not None:
        bits.append(f"{_count(card.train_images)} images")
    if card.epochs_run is not None:
        epochs = f"{card.epochs_run} epochs"
        if card.best_epoch is not None:
            epochs += f" (best: {card.best_epoch})"
        bits.append(epochs)
    if isinstance(card.train_seconds, (int, float)):
        bits.append(f"{card.train_seconds / 60:.0f} min")
    return ", ".join(bits) or None


def _not_a_digit(card: ModelCard) -> str | None:
    if card.heldout_letters_rejected is None or card.val_digits_kept is None:
        return None
    return (
        f"rejects {pct(card.heldout_letters_rejected, 1)} of letters in unseen fonts, "
        f"keeps {pct(card.val_digits_kept, 1)} of validation digits"
    )


def _if_set(value, text):
    return None if value is None else text(value)


# (label, function of the card giving the text or None, the fields it shows)
_MAIN = [
    ("Name", lambda c: c.name, ("name",)),
    ("Architecture", lambda c: c.arch, ("arch",)),
    ("Parameters", lambda c: _if_set(c.parameters, _count), ("parameters",)),
    ("Weights", _weights, ("kind", "calibration", "inference")),
    ("Model file", lambda c: _if_set(c.file_bytes, lambda v: f"{int(v) / 1024:.1f} KiB"), ("file_bytes",)),
    (
        "Test accuracy",
        lambda c: _if_set(c.test_accuracy, lambda v: f"{pct(v)} on MNIST's 10,000 test images"),
        ("test_accuracy",),
    ),
    ("Before quantization", lambda c: _if_set(c.float_test_accuracy, pct), ("float_test_accuracy",)),
    ("Validation accuracy", lambda c: _if_set(c.val_accuracy, pct), ("val_accuracy",)),
    ("Not a digit", _not_a_digit, ("heldout_letters_rejected", "val_digits_kept")),
    ("Training", _training, ("train_images", "epochs_run", "best_epoch", "train_seconds")),
    ("Created", lambda c: c.created, ("created",)),
    ("Trained with", lambda c: c.command, ("command",)),
]
SHOWN_FIELDS = {f for _label, _fn, shown in _MAIN for f in shown} | {"per_class_accuracy"}


def main_rows(card: dict) -> list[tuple[str, str]]:
    """The fields a reader looks for first, formatted."""
    typed = ModelCard.from_dict(card)
    rows = []
    for label, text_of, _fields in _MAIN:
        text = text_of(typed)
        if text not in (None, ""):
            rows.append((label, str(text)))
    return rows


def per_class_cells(card: dict) -> list[str]:
    """["0: 99.8%", ...] from per_class_accuracy (a list indexed by digit)."""
    per_class = ModelCard.from_dict(card).per_class_accuracy
    if not isinstance(per_class, list):
        return []
    return [f"{digit}: {pct(acc, 1)}" for digit, acc in enumerate(per_class)]


def more_rows(card: dict) -> list[tuple[str, str]]:
    """Every other scalar field, as it is in the file."""
    typed = ModelCard.from_dict(card)
    others = [(name, getattr(typed, name)) for name in FIELD_NAMES if name not in SHOWN_FIELDS]
    rows = []
    for key, value in others + list(typed.extra.items()):
        if value is None or isinstance(value, (dict, list)):
            continue
        if isinstance(value, float):
            value = f"{value:.4g}"
        rows.append((key, str(value)))
    return rows
