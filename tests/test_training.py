"""Training on real MNIST: accuracy, determinism, checkpoints, resume, divergence, Ctrl-C."""

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import TrainingDivergedError
from engine.architectures import cnn_config, mlp_config
from engine.model import Sequential
from engine.train import TrainConfig, Trainer, stratified_split

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small_data(mnist):
    x = mnist["train_images"].astype(np.float32) / 255
    y = mnist["train_labels"].astype(np.int64)
    return x[:4000], y[:4000], x[-2000:], y[-2000:]


def train(config, data, arch=mlp_config, run_dir=None, **callbacks):
    model = Sequential.from_config(arch(), np.random.default_rng(config.seed))
    trainer = Trainer(model, config, run_dir, **callbacks)
    trainer.fit(*data)
    return model, trainer


def test_short_mlp_run_is_well_above_chance(small_data):
    model, trainer = train(TrainConfig(epochs=3, augment=True, seed=1), small_data)
    val_acc = trainer.state.history[-1]["val_accuracy"]
    assert val_acc > 0.90, f"validation accuracy {val_acc:.3f} after 3 epochs on 4,000 images"


def test_short_cnn_run_is_well_above_chance(small_data):
    x, y, vx, vy = small_data
    _, trainer = train(
        TrainConfig(epochs=2, augment=True, seed=0), (x[:3000], y[:3000], vx[:1000], vy[:1000]), arch=cnn_config
    )
    assert trainer.state.history[-1]["val_accuracy"] > 0.85


def test_same_seed_gives_identical_weights_and_another_seed_does_not(small_data):
    config = TrainConfig(epochs=2, augment=True, seed=3)
    a, _ = train(config, small_data)
    b, _ = train(config, small_data)
    c, _ = train(TrainConfig(epochs=2, augment=True, seed=4), small_data)
    for key, value in a.state_arrays().items():
        assert np.array_equal(value, b.state_arrays()[key]), key
    assert not np.array_equal(a.state_arrays()["0.W"], c.state_arrays()["0.W"])


def test_resume_after_interruption_equals_an_uninterrupted_run(tmp_path, small_data):
    config = TrainConfig(epochs=4, augment=True, seed=5)
    straight, _ = train(config, small_data, run_dir=tmp_path / "a")

    def interrupt_after_two(record, state):
        if record.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, small_data, run_dir=tmp_path / "b", on_epoch=interrupt_after_two)
    model = Sequential.from_config(mlp_config(), np.random.default_rng(99))  # different init: all must come from disk
    trainer = Trainer(model, config, tmp_path / "b")
    trainer.load_checkpoint()
    assert trainer.state.epoch == 2
    trainer.fit(*small_data)
    for key, value in straight.state_arrays().items():
        assert np.array_equal(value, model.state_arrays()[key]), key


def test_early_stopping_restores_the_best_weights(small_data):
    """Weights wrecked after epoch 2 make epoch 3 worse: patience 1 stops there and brings epoch 2 back."""
    config = TrainConfig(epochs=6, lr=1e-3, schedule="constant", patience=1, augment=False, seed=0)
    model = Sequential.from_config(mlp_config(), np.random.default_rng(0))
    saved = {}

    def wreck_after_two(record, state):
        if record.epoch == 2:
            saved.update({k: v.copy() for k, v in model.state_arrays().items()})
            model.layers[0].params["W"][...] = np.random.default_rng(1).normal(0, 50, model.layers[0].params["W"].shape)

    trainer = Trainer(model, config, None, on_epoch=wreck_after_two)
    state = trainer.fit(*small_data)
    assert (state.epoch, state.best_epoch) == (3, 2)
    for key, value in saved.items():
        assert np.array_equal(model.state_arrays()[key], value), key
    from engine.train import evaluate

    loss, _ = evaluate(model, small_data[2].reshape(-1, 784), small_data[3])
    assert loss == pytest.approx(state.best_val_loss, rel=1e-5)


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(tmp_path, small_data):
    def poison(record, state):
        model.layers[0].params["W"][0, 0] = np.nan  # after epoch 1 was checkpointed

    config = TrainConfig(epochs=3, seed=0)
    model = Sequential.from_config(mlp_config(), np.random.default_rng(0))
    trainer = Trainer(model, config, tmp_path, on_epoch=poison)
    with pytest.raises(TrainingDivergedError, match="checkpoint"):
        trainer.fit(*small_data)
    saved = Trainer(Sequential.from_config(mlp_config()), config, tmp_path)
    saved.load_checkpoint()
    assert saved.state.epoch == 1
    assert all(np.all(np.isfinite(a)) for a in saved.model.state_arrays().values())


def test_stratified_split_keeps_class_proportions(mnist):
    labels = mnist["train_labels"]
    train_idx, val_idx = stratified_split(labels, 5000, np.random.default_rng(0))
    assert len(val_idx) == 5000 and len(train_idx) == 55000
    assert not set(train_idx) & set(val_idx)
    expected = np.bincount(labels) * 5000 / len(labels)
    assert np.all(np.abs(np.bincount(labels[val_idx]) - expected) <= 1)


def run_cli(*args, **kwargs):
    return subprocess.run(
        [sys.executable, str(ROOT / "train_offline.py"), *args], capture_output=True, text=True, cwd=ROOT, **kwargs
    )


def test_train_offline_end_to_end_writes_every_artifact(tmp_path):
    models = tmp_path / "models"
    result = run_cli(
        "--arch",
        "mlp",
        "--limit",
        "2000",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        str(tmp_path),
        "--models-dir",
        str(models),
        "--install",  # a --limit run installs only when told to
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    run = next(p for p in tmp_path.iterdir() if p.name.endswith("-mlp"))
    for name in (
        "config.json",
        "history.csv",
        "metrics.json",
        "curves.png",
        "confusion.png",
        "checkpoint.npz",
        "model_float32.npz",
        "model_int8.npz",
        "comparison.md",
        "comparison.json",
        "rejection.json",
    ):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.85
    assert len(metrics["test"]["confusion_matrix"]) == 10
    assert len(metrics["test"]["per_class"]) == 10 and "f1" in metrics["test"]["per_class"][0]
    assert (run / "history.csv").read_text().count("\n") == 3
    card = json.loads((models / "mnist_int8.json").read_text())
    assert card["kind"] == "int8" and card["command"].startswith("python train_offline.py")
    # the exact-integer path ships, whichever variant validates best (the others are in the comparison)
    comparison = json.loads((run / "comparison.json").read_text())
    assert card["inference"] == "int8" and comparison["chosen"].startswith("int8 (int8,")
    assert {r["model"] for r in comparison["rows"]} >= {"int8 (dequantized, max calibration)", "float32"}
    assert "epoch   2" in result.stdout and "float32" in result.stdout
    # "not a digit": an eleventh output trained on negatives, its threshold chosen on validation, in the file
    assert card["outputs"] == 11 and card["negatives_trained"] == math.ceil(10000 * 2000 / 55000)
    installed = engine.load_model(models / "mnist_int8.npz")
    assert installed.logits(np.zeros((1, *installed.input_shape), np.float32)).shape == (1, 11)
    assert installed.reject_rule.threshold == pytest.approx(card["reject_threshold"])
    assert card["val_digits_kept"] >= 0.995 and 0 <= card["heldout_letters_rejected"] <= 1
    assert "Not a digit: keeps" in result.stdout


def test_ctrl_c_keeps_finished_epochs_and_resume_completes(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "train_offline.py"),
            "--arch",
            "mlp",
            "--limit",
            "3000",
            "--epochs",
            "40",
            "--quiet",
            "--no-install",
            "--out",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.time() + 240
    while time.time() < deadline and not list(tmp_path.glob("*/checkpoint.npz")):
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "--resume" in err
    run = next(tmp_path.iterdir())
    checkpoint_before = (run / "checkpoint.npz").read_bytes()
    assert checkpoint_before
    result = run_cli("--resume", str(run), "--no-install", "--quiet", timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Resumed after epoch" in result.stdout
    assert json.loads((run / "metrics.json").read_text())["test"]["accuracy"] > 0.9


def test_missing_data_folder_says_how_to_supply_it(tmp_path):
    result = run_cli("--data", str(tmp_path), "--quiet", timeout=60)
    assert result.returncode == 2
    assert "train-images-idx3-ubyte" in result.stderr and "--data" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_documents_every_flag():
    out = run_cli("--help", timeout=60).stdout
    for flag in (
        "--arch",
        "--epochs",
        "--batch-size",
        "--lr",
        "--optimizer",
        "--seed",
        "--data",
        "--out",
        "--limit",
        "--no-augment",
        "--resume",
        "--no-install",
        "--elastic",
        "--threads",
    ):
        assert flag in out, flag


@pytest.mark.parametrize(
    "flags, message",
    [
        (("--threads", "0"), "--threads must be at least 1"),
        (("--epochs", "0"), "--epochs must be at least 1"),
        (("--lr", "-1"), "--lr must be positive"),
        # helper-30's fuzzing: each of these ended in a traceback (IndexError, NumPy's "expected
        # non-negative integer", ...) or trained with a nonsensical recipe
        (("--patience", "-1"), "--patience must be at least 1"),
        (("--seed", "-1"), "--seed must be 0 or more"),
        (("--label-smoothing", "5"), "--label-smoothing must be from 0 to below 1"),
        (("--weight-decay", "-10"), "--weight-decay must be 0 or more"),
    ],
)
def test_bad_flag_values_are_refused_by_name(flags, message):
    result = run_cli(*flags, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_the_best_epoch_is_the_most_accurate_the_lower_loss_breaking_ties():
    """A onecycle run's loss bottoms out before its accuracy does: accuracy decides which epoch is kept."""
    from dataclasses import asdict

    from engine.train import EpochRecord, TrainState, better

    def record(epoch, loss, acc):
        return EpochRecord(epoch, 0.3, 0.98, loss, acc, 1e-3, 1.0, 100.0)

    state = TrainState()
    first = record(1, 0.0689, 0.9910)
    assert better(first, state)
    state.history.append(asdict(first))
    state.best_epoch, state.best_val_loss = 1, first.val_loss
    assert better(record(2, 0.0740, 0.9944), state), "more accurate, though the loss is higher"
    assert not better(record(2, 0.0600, 0.9908), state), "lower loss, less accurate"
    assert better(record(2, 0.0650, 0.9910), state) and not better(record(2, 0.0700, 0.9910), state), "ties: loss"


def test_the_exact_integer_variant_ships_even_when_a_dequantized_one_validates_better():
    from digits.export import shipped_row

    rows = [
        {"model": "int8 (int8, max calibration)", "inference": "int8", "val_accuracy": 0.9944},
        {"model": "int8 (dequantized, max calibration)", "inference": "dequantized", "val_accuracy": 0.9948},
        {"model": "int8 (int8, percentile calibration)", "inference": "int8", "val_accuracy": 0.9946},
        {"model": "int8 (dequantized, percentile calibration)", "inference": "dequantized", "val_accuracy": 0.9948},
    ]
    assert shipped_row(rows)["model"] == "int8 (int8, percentile calibration)"
    rows[2]["val_accuracy"] = 0.9944  # a tie: the first calibration listed
    assert shipped_row(rows)["model"] == "int8 (int8, max calibration)"


def test_a_validation_split_larger_than_the_data_is_one_line(tmp_path):
    result = run_cli("--val-size", "100000", "--quiet", "--no-install", "--out", str(tmp_path), timeout=300)
    assert result.returncode == 2, result.stderr
    assert "validation size must be between 1 and 59999" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_after_the_epochs_keeps_the_checkpoint_and_says_how_to_finish(tmp_path, monkeypatch, capsys):
    """Interrupted while reporting, quantizing or exporting (helper-30's fuzzing: a traceback), the run
    says what is kept and how to finish it; no model file is written."""
    from digits import train_command

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "quantize_and_report", interrupted)
    models = tmp_path / "models"
    try:
        code = train_command.main(
            [
                "--arch",
                "mlp",
                "--limit",
                "300",
                "--epochs",
                "1",
                "--quiet",
                "--out",
                str(tmp_path / "runs"),
                "--models-dir",
                str(models),
                "--install",
            ]
        )
    except KeyboardInterrupt:
        pytest.fail("the interruption escaped as a traceback")
    err = capsys.readouterr().err
    assert code == 130, err
    [run] = (tmp_path / "runs").iterdir()
    assert f"--resume {run}" in err and "checkpoint.npz" in err and "Traceback" not in err
    assert (run / "checkpoint.npz").stat().st_size > 0
    assert not models.exists() or not list(models.glob("*.npz"))
