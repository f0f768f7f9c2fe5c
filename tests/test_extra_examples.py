"""Examples files (engine.save_examples / load_examples) and ``train_offline.py --extra FILE``.

The page's Export writes a writer's examples in this format; ``--extra`` adds them to the
training set. A damaged or hostile file is refused with one clear line, before training.
"""

import json
import zipfile

import numpy as np
import pytest

import engine
from shipped_model import SHIPPED_MODEL
from test_training_failures import assert_one_error_line, run_train


@pytest.fixture
def examples():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), np.array([1, 1, 7, 7, 0, 4])


def test_round_trip(tmp_path, examples):
    x, y = examples
    engine.save_examples(tmp_path / "mine.npz", x, y)
    got_x, got_y = engine.load_examples(tmp_path / "mine.npz")
    assert got_x.dtype == np.uint8 and np.array_equal(got_x, x)
    assert got_y.dtype == np.int64 and np.array_equal(got_y, y)
    engine.save_examples(tmp_path / "floats.npz", x / 255.0, y)  # preprocess's floats are scaled to bytes
    assert np.array_equal(engine.load_examples(tmp_path / "floats.npz")[0], x)


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


BAD_FILES = {
    "not a zip": (lambda p, x, y: p.write_bytes(b"hello, not an npz"), "not a valid .npz"),
    "truncated": (lambda p, x, y: p.write_bytes(good_bytes(p, x, y)[:300]), "not a valid .npz"),
    "a model file": (lambda p, x, y: p.write_bytes(SHIPPED_MODEL.read_bytes()), "examples_format"),
    "format 2": (lambda p, x, y: write_npz(p, examples_format=np.array(2), images=x, labels=y), "examples_format"),
    "float images": (
        lambda p, x, y: write_npz(p, examples_format=np.array(1), images=x / 255, labels=y),
        "'images' is float64",
    ),
    "wrong size": (
        lambda p, x, y: write_npz(p, examples_format=np.array(1), images=x[:, :20], labels=y),
        "'images' is uint8(6, 20, 28)",
    ),
    "one label short": (
        lambda p, x, y: write_npz(p, examples_format=np.array(1), images=x, labels=y[:-1]),
        "'images' is uint8(6, 28, 28), an examples file needs uint8(5, 28, 28)",
    ),
    "label 12": (
        lambda p, x, y: write_npz(p, examples_format=np.array(1), images=x, labels=np.where(y == 4, 12, y)),
        "label 12 is not a digit",
    ),
    "label 2**63 (uint64)": (
        lambda p, x, y: write_npz(
            p, examples_format=np.array(1), images=x, labels=np.where(y == 4, 2**63, y).astype(np.uint64)
        ),
        "label 9223372036854775808 is not a digit",
    ),
    "pickled labels": (
        lambda p, x, y: write_npz(p, examples_format=np.array(1), images=x, labels=np.array(list(y), dtype=object)),
        "only plain numbers",
    ),
    "something else inside": (
        lambda p, x, y: write_npz(p, examples_format=np.array(1), images=x, labels=y, payload=np.zeros(3)),
        "unexpected array 'payload'",
    ),
    "no examples": (
        lambda p, x, y: write_npz(p, examples_format=np.array(1), images=x[:0], labels=y[:0]),
        "no examples",
    ),
}


def good_bytes(path, x, y) -> bytes:
    engine.save_examples(path, x, y)
    return path.read_bytes()


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_by_name(tmp_path, examples, case):
    make, message = BAD_FILES[case]
    path = tmp_path / "bad.npz"
    make(path, *examples)
    with pytest.raises(engine.ModelFormatError) as err:
        engine.load_examples(path)
    assert message in str(err.value) and str(path) in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_train_offline_refuses_a_bad_extra_before_training(tmp_path):
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("evil.pkl", b"cos\nsystem\n")
    result = run_train("--extra", bad, "--limit", 300, "--epochs", 1, "--arch", "mlp", "--quiet", "--out", tmp_path)
    assert_one_error_line(result, bad, "unexpected entry 'evil.pkl'")
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # no run folder: nothing was trained


def test_train_offline_trains_on_the_extra_examples(tmp_path, examples):
    extra = tmp_path / "mine.npz"
    engine.save_examples(extra, *examples)
    args = ("--limit", 300, "--epochs", 1, "--arch", "mlp", "--quiet", "--negatives", 0, "--styles", 0)
    result = run_train("--extra", extra, *args, "--no-install", "--out", tmp_path / "runs")
    assert result.returncode == 0, result.stderr
    assert "6 from --extra" in result.stdout
    (run,) = (tmp_path / "runs").iterdir()
    config = json.loads((run / "config.json").read_text())
    assert config["train_images"] == 300 + 6 and config["extra_examples"] == 6
    assert config["args"]["extra"] == str(extra)
