"""web/card.py: the model card as the page shows it (checked in CPython)."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "web"))
sys.path.insert(0, str(ROOT / "digits"))  # the page loads model_card.py as a top-level module, like this

import card  # noqa: E402
from model_card import FIELD_NAMES  # noqa: E402

CARD = {
    "name": "mnist-cnn",
    "arch": "cnn",
    "parameters": 99722,
    "test_accuracy": 0.9951,
    "per_class_accuracy": [0.998, 0.997, 0.995, 0.999, 0.995, 0.997, 0.990, 0.998, 0.995, 0.987],
    "kind": "int8",
    "inference": "int8",
    "calibration": "max",
    "float_test_accuracy": 0.9952,
    "train_images": 55000,
    "epochs_run": 15,
    "best_epoch": 10,
    "train_seconds": 2498.9,
    "file_bytes": 99811,
    "created": "2026-11-24T06:04:53+00:00",
    "command": "python train_offline.py",
    "engine_version": "0.1.0",
    "agreement_with_float": 0.9999,
}


def test_main_rows_are_formatted_for_people():
    rows = dict(card.main_rows(CARD))
    assert rows["Architecture"] == "cnn"
    assert rows["Parameters"] == "99,722"
    assert rows["Test accuracy"] == "99.51% on MNIST's 10,000 test images"
    assert rows["Weights"] == "int8, max calibration, int8 inference"
    assert rows["Model file"] == "97.5 KiB"
    assert rows["Training"] == "55,000 images, 15 epochs (best: 10), 42 min"


def test_the_not_a_digit_row_says_what_is_rejected_and_kept():
    rows = dict(card.main_rows({**CARD, "heldout_letters_rejected": 0.9312, "val_digits_kept": 0.995}))
    assert rows["Not a digit"] == "rejects 93.1% of letters in unseen fonts, keeps 99.5% of validation digits"
    assert "Not a digit" not in dict(card.main_rows(CARD))  # a 10-output card without the figures: no row


def test_per_class_cells():
    assert card.per_class_cells(CARD)[0] == "0: 99.8%"
    assert card.per_class_cells({"per_class_accuracy": "bad"}) == []
    assert card.per_class_cells({}) == []


def test_unknown_fields_are_kept_in_more_rows():
    more = dict(card.more_rows({**CARD, "writer": "me"}))
    assert more == {"engine_version": "0.1.0", "agreement_with_float": "0.9999", "writer": "me"}


def test_every_schema_field_reaches_the_panel():
    """A field added to (or renamed in) the schema shows up in the main or the "more" rows."""
    full = {name: 7 for name in FIELD_NAMES}
    full["per_class_accuracy"] = [0.5] * 10
    shown = {label for label, _ in card.main_rows(full)} | {key for key, _ in card.more_rows(full)}
    hidden = [name for name in FIELD_NAMES if name not in card.SHOWN_FIELDS and name not in shown]
    assert not hidden, f"schema fields the page never shows: {hidden}"
    assert len(card.main_rows(full)) == len(card._MAIN)
    assert card.per_class_cells(full)[9] == "9: 50.0%"


def test_a_card_that_is_not_a_dict_renders_nothing():
    assert card.main_rows(["not", "a", "card"]) == [] and card.more_rows(42) == []


def test_the_shipped_card_renders():
    path = ROOT / "models" / "mnist_int8.json"
    if path.exists():
        shipped = json.loads(path.read_text())
        labels = [label for label, _ in card.main_rows(shipped)]
        assert "Architecture" in labels and "Test accuracy" in labels
        assert len(card.per_class_cells(shipped)) == 10
