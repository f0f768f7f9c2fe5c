"""web/about_model.py: the model explained in plain words, its layers with their sizes (checked in CPython)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "web"))
sys.path.insert(0, str(ROOT / "digits"))  # the page loads model_card.py as a top-level module, like this

import about_model  # noqa: E402

ARCH = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "in_channels": 1, "out_channels": 16, "kernel": 3, "padding": 1, "stride": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "size": 2},
        {"type": "Conv2D", "in_channels": 16, "out_channels": 32, "kernel": 3, "padding": 0, "stride": 1},
        {"type": "MaxPool2D", "size": 2},
        {"type": "Flatten"},
        {"type": "Dense", "in_features": 800, "out_features": 11},
    ],
}
CARD = {
    "parameters": 99979,
    "kind": "int8",
    "file_bytes": 100211,
    "test_accuracy": 0.9949,
    "train_images": 73000,
    "styled_trained": 8000,
    "negatives_trained": 10000,
    "epochs_run": 15,
    "train_seconds": 3007.0,
    "per_class_accuracy": [0.998, 0.996, 0.997, 0.999, 0.997, 0.998, 0.990, 0.994, 0.996, 0.985],
}


def test_layer_sizes_follow_the_architecture():
    sizes = [size for _, size in about_model.layer_steps(ARCH)]
    # 28 -> conv pad 1 -> 28x28x16 -> pool -> 14 -> conv pad 0 -> 12x12x32 -> pool -> 6 -> dense 11
    assert sizes == ["28×28", "28×28×16", "14×14×16", "12×12×32", "6×6×32", "11"]
    assert "not a digit" in about_model.layer_steps(ARCH)[-1][0]


def test_the_story_is_in_plain_words_with_the_cards_figures():
    what, trained, accurate, device = about_model.story(CARD, about_model.layer_steps(ARCH))
    assert "2 layers of little filters" in what and "99,979" in what and "8-bit integers" in what and "98 KB" in what
    assert "73,000 images" in trained and "15 passes" in trained and "50 minutes" in trained
    assert "9,949 right" in accurate and "99.5%" in accurate
    assert "on your device" in device and "offline" in device
    for text in (what, trained, accurate, device):
        assert "train_offline.py" not in text and "cnn" not in text.split()  # not a log


def test_digit_accuracy_in_digit_order():
    assert about_model.digit_accuracy(CARD)[9] == (9, 0.985)
    assert about_model.digit_accuracy({}) == []


def test_the_shipped_model_explains_itself():
    import engine

    model = engine.load_model(ROOT / "models" / "mnist_int8.npz")
    steps = about_model.layer_steps(model.architecture)
    assert steps[-1][1] == str(model.architecture["layers"][-1]["out_features"])
    assert len(about_model.story(model.card, steps)) == 4
