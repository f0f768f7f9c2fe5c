"""The model card (models/mnist_int8.json, also ``model.card``) as rows for the page's "About the model" panel.

Pure Python: the page builds the table from these rows, and
tests/test_web_card.py checks the wording in CPython. Unknown fields are not
dropped: they go to the "more" rows, so a card that grows stays visible.
"""
from __future__ import annotations


def pct(value, digits: int = 2) -> str:
    return f"{float(value):.{digits}%}" if isinstance(value, (int, float)) else str(value)


def _count(value) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else str(value)


def _weights(card: dict) -> str | None:
    kind = card.get("kind")
    if not kind:
        return None
    parts = [str(kind)]
    if card.get("calibration"):
        parts.append(f"{card['calibration']} calibration")
    if card.get("inference"):
        parts.append(f"{card['inference']} inference")
    return ", ".join(parts)


def _training(card: dict) -> str | None:
    bits = []
    if "train_images" in card:
        bits.append(f"{_count(card['train_images'])} images")
    if "epochs_run" in card:
        epochs = f"{card['epochs_run']} epochs"
        if "best_epoch" in card:
            epochs += f" (best: {card['best_epoch']})"
        bits.append(epochs)
    if isinstance(card.get("train_seconds"), (int, float)):
        bits.append(f"{card['train_seconds'] / 60:.0f} min")
    return ", ".join(bits) or None


# (label, function of the card giving the text or None, the fields it uses)
_MAIN = [
    ("Name", lambda c: c.get("name"), ("name",)),
    ("Architecture", lambda c: c.get("arch"), ("arch",)),
    ("Parameters", lambda c: _count(c["params"]) if "params" in c else
     (_count(c["parameters"]) if "parameters" in c else None), ("params", "parameters")),
    ("Weights", _weights, ("kind", "calibration", "inference")),
    ("Model file", lambda c: f"{int(c['file_bytes']) / 1024:.1f} KiB" if "file_bytes" in c else None,
     ("file_bytes",)),
    ("Test accuracy", lambda c: f"{pct(c['test_accuracy'])} on MNIST's 10,000 test images"
     if "test_accuracy" in c else None, ("test_accuracy",)),
    ("Before quantization", lambda c: pct(c["float_test_accuracy"]) if "float_test_accuracy" in c else None,
     ("float_test_accuracy",)),
    ("Validation accuracy", lambda c: pct(c["val_accuracy"]) if "val_accuracy" in c else None, ("val_accuracy",)),
    ("Training", _training, ("train_images", "epochs_run", "best_epoch", "train_seconds")),
    ("Created", lambda c: c.get("created"), ("created",)),
    ("Trained with", lambda c: c.get("command"), ("command",)),
]


def main_rows(card: dict) -> list[tuple[str, str]]:
    """The fields a reader looks for first, formatted."""
    rows = []
    for label, text_of, _fields in _MAIN:
        text = text_of(card)
        if text not in (None, ""):
            rows.append((label, str(text)))
    return rows


def per_class_cells(card: dict) -> list[str]:
    """["0: 99.8%", ...] from per_class_accuracy (a list indexed by digit, or a dict)."""
    per_class = card.get("per_class_accuracy") or []
    items = per_class.items() if isinstance(per_class, dict) else enumerate(per_class)
    return [f"{digit}: {pct(acc, 1)}" for digit, acc in items]


def more_rows(card: dict) -> list[tuple[str, str]]:
    """Every other scalar field, as it is in the file."""
    used = {f for _label, _fn, fields in _MAIN for f in fields} | {"per_class_accuracy"}
    rows = []
    for key, value in card.items():
        if key in used or isinstance(value, (dict, list)):
            continue
        if isinstance(value, float):
            value = f"{value:.4g}"
        rows.append((key, str(value)))
    return rows
