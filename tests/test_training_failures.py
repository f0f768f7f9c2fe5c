"""train_offline.py and the Trainer when things go wrong (issue 17, "Training failures").

Every failure ends in one line on stderr that names the file and says what to do, with a
non-zero exit status and no traceback; a damaged or foreign checkpoint is refused before
anything is trained or installed; a full disk keeps the previous checkpoint; a read-only
folder is noticed before training; what a SIGKILL leaves behind is cleaned up on resume.
"""

import collections
import ctypes
import errno
import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from digits.export import ExportError, install_model, save_verified
from digits.model_card import ModelCard
from digits.run_folder import history_csv
from engine import ModelFormatError, TrainingDivergedError
from engine.architectures import cnn_config, mlp_config
from engine.model import Sequential
from engine.npz import array_json, json_array
from engine.train import EpochRecord, TrainConfig, Trainer

ROOT = Path(__file__).resolve().parent.parent
TINY = ("--limit", "300", "--epochs", "1", "--arch", "mlp", "--quiet")

# Runs train_offline's main with os.fsync failing at its Nth call (N = argv[2]): "enospc" raises
# OSError(ENOSPC) as a full disk does, "kill" SIGKILLs the process in the middle of an atomic write
# (the temporary is written, not yet renamed). fsync is called once per atomic write: config.json,
# then one checkpoint per epoch, then history.csv, model_float32.npz, ...
FAILING_FSYNC = """
import errno, os, signal, sys
mode, nth = sys.argv[1], int(sys.argv[2])
calls, real_fsync = [0], os.fsync
def fsync(fd):
    calls[0] += 1
    if calls[0] == nth:
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    real_fsync(fd)
os.fsync = fsync
from digits.train_command import main
sys.exit(main(sys.argv[3:]))
"""


def run_train(*args, failing_fsync=None, preexec_fn=None, timeout=300):
    command = [sys.executable, str(ROOT / "train_offline.py")]
    if failing_fsync is not None:
        command = [sys.executable, "-c", FAILING_FSYNC, *failing_fsync]
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=timeout, preexec_fn=preexec_fn
    )


def assert_one_error_line(result, *fragments, status=2):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert str(fragment) in lines[0], (fragment, lines[0])
    return lines[0]


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A tiny run (300 images, 1 epoch, mlp) that went to the end."""
    out = tmp_path_factory.mktemp("runs")
    result = run_train(*TINY, "--no-install", "--out", out)
    assert result.returncode == 0, result.stderr
    return next(out.iterdir())


@pytest.fixture
def run_copy(finished_run, tmp_path) -> Path:
    """A fresh copy of that run's config.json and checkpoint, to damage."""
    run = tmp_path / "run"
    run.mkdir()
    for name in ("config.json", "checkpoint.npz"):
        shutil.copy(finished_run / name, run / name)
    return run


def resume(run: Path, *extra):
    """Resume ``run`` installing into run/models (so a test sees whether anything was installed)."""
    return run_train("--resume", run, "--quiet", "--install", "--models-dir", run / "models", *extra)


def checkpoint_arrays(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def write_checkpoint(path: Path, arrays: dict) -> None:
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def edit_state(path: Path, edit) -> None:
    arrays = checkpoint_arrays(path)
    state = array_json(arrays["state"])
    edit(state)
    arrays["state"] = json_array(state)
    write_checkpoint(path, arrays)


# --- --resume of a damaged checkpoint: one line, nothing trained, nothing installed --------------


def test_resume_refuses_nan_in_the_best_weights_and_installs_nothing(run_copy):
    arrays = checkpoint_arrays(run_copy / "checkpoint.npz")
    arrays["best/0.W"][3, 5] = np.nan
    write_checkpoint(run_copy / "checkpoint.npz", arrays)
    result = resume(run_copy)
    assert_one_error_line(result, run_copy / "checkpoint.npz", "best/0.W", "NaN", "without --resume")
    assert not (run_copy / "models").exists() or not any((run_copy / "models").iterdir())
    assert "Training" not in result.stdout


@pytest.mark.parametrize(
    "name, reshape",
    [("best/0.b", lambda a: a[:1]), ("model/4.W", lambda a: a.T), ("optimizer/m_sum/8.b", lambda a: a[None])],
    ids=["broadcastable", "transposed", "extra axis"],
)
def test_resume_refuses_arrays_of_the_wrong_shape(run_copy, name, reshape):
    arrays = checkpoint_arrays(run_copy / "checkpoint.npz")
    arrays[name] = reshape(arrays[name])
    write_checkpoint(run_copy / "checkpoint.npz", arrays)
    assert_one_error_line(resume(run_copy), run_copy / "checkpoint.npz", name, "a checkpoint needs")
    assert not (run_copy / "models" / "mnist_int8.npz").exists()


def test_resume_of_a_truncated_checkpoint_is_one_line(run_copy):
    path = run_copy / "checkpoint.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert_one_error_line(resume(run_copy), path, "truncated or damaged", "without --resume")


def test_resume_of_an_empty_checkpoint_is_one_line(run_copy):
    (run_copy / "checkpoint.npz").write_bytes(b"")
    assert_one_error_line(resume(run_copy), run_copy / "checkpoint.npz", "without --resume")


def test_resume_of_a_checkpoint_missing_an_array_is_one_line(run_copy):
    arrays = checkpoint_arrays(run_copy / "checkpoint.npz")
    del arrays["optimizer/v_sum/4.W"]
    write_checkpoint(run_copy / "checkpoint.npz", arrays)
    assert_one_error_line(resume(run_copy), run_copy / "checkpoint.npz", "missing array 'optimizer/v_sum/4.W'")


def test_resume_before_the_first_checkpoint_is_one_line(run_copy):
    """Killed while writing the first checkpoint: only its temporary exists; resume says so, and removes it."""
    (run_copy / "checkpoint.npz").rename(run_copy / ".checkpoint.npz.k1ll3d_x.tmp")
    result = resume(run_copy)
    assert_one_error_line(result, run_copy / "checkpoint.npz", "no checkpoint yet", "without --resume")
    assert temporaries(run_copy) == []


def test_resume_of_a_checkpoint_from_another_architecture_is_one_line(run_copy):
    config = TrainConfig(**json.loads((run_copy / "config.json").read_text())["train"])
    Trainer(Sequential.from_config(cnn_config()), config, run_copy).save_checkpoint()  # a cnn's, in an mlp run
    assert_one_error_line(resume(run_copy), run_copy / "checkpoint.npz", "another architecture", "Conv2D")


def test_resume_of_a_missing_run_folder_is_one_line(tmp_path):
    assert_one_error_line(run_train("--resume", tmp_path / "nowhere"), tmp_path / "nowhere", "no such run folder")


def test_resume_without_config_json_is_one_line(run_copy):
    (run_copy / "config.json").unlink()
    assert_one_error_line(resume(run_copy), run_copy / "config.json", "missing", "without --resume")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('{"args": {"arch": "mlp", ', "not valid JSON"),
        ("", "not valid JSON"),
        ("\xff\xfe garbage", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"command": "python train_offline.py"}', '"args"'),
        ("[" * 100_000 + "]" * 100_000, "JSON"),
    ],
    ids=["truncated", "empty", "binary", "a list", "no args", "nested deep"],
)
def test_resume_with_a_broken_config_json_is_one_line(run_copy, text, fragment):
    (run_copy / "config.json").write_text(text, encoding="latin-1")
    assert_one_error_line(resume(run_copy), run_copy / "config.json", fragment)


@pytest.mark.parametrize(
    "flag, value, fragment",
    [
        ("epochs", "3", "args.epochs"),
        ("epochs", 0, "--epochs must be at least 1"),
        ("lr", None, "args.lr"),
        ("lr", float("nan"), "args.lr"),
        ("arch", "transformer", "args.arch"),
        ("no_augment", 1, "args.no_augment"),
        ("limit", True, "args.limit"),
        ("seed", 0.5, "args.seed"),
        ("batch_size", "delete", "args.batch_size"),
    ],
)
def test_resume_with_bad_flags_in_config_json_is_one_line(run_copy, flag, value, fragment):
    config = json.loads((run_copy / "config.json").read_text())
    if value == "delete":
        del config["args"][flag]
    else:
        config["args"][flag] = value
    (run_copy / "config.json").write_text(json.dumps(config))
    assert_one_error_line(resume(run_copy), run_copy / "config.json", fragment)


# --- disks that fill up and folders that cannot be written --------------------------------------


def test_full_disk_keeps_the_previous_checkpoint_and_is_one_line(tmp_path):
    """ENOSPC while writing epoch 2's checkpoint: one line, epoch 1's checkpoint intact, no temporary."""
    out = tmp_path / "runs"
    result = run_train(
        "--limit", 300, "--epochs", 2, "--arch", "mlp", "--quiet", "--no-install", "--out", out,
        failing_fsync=("enospc", "3"),
    )  # fmt: skip
    run = next(out.iterdir())
    line = assert_one_error_line(result, run / "checkpoint.npz", "No space left on device", "--resume", status=1)
    assert f"--resume {run}" in line
    assert temporaries(run) == []
    trainer = Trainer(Sequential.from_config(mlp_config(outputs=11)), TrainConfig(epochs=2, lr=2e-3), run)
    trainer.load_checkpoint()
    assert trainer.state.epoch == 1
    resumed = run_train("--resume", run, "--quiet", "--no-install")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resumed after epoch 1" in resumed.stdout


def without_root_privileges():
    """preexec_fn: as root, give up the capabilities that ignore file permissions, so a chmod 0o555
    folder is read-only to the child as it is to any user. (Nothing to do for other users.)"""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone from the bounding set at exec
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def read_only(tmp_path):
    """Make folders read-only for the test (and writable again afterwards, so tmp_path can be removed)."""
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0o555)
    check = subprocess.run(
        [sys.executable, "-c", f"open({str(probe / 'x')!r}, 'w')"], preexec_fn=without_root_privileges
    )
    if check.returncode == 0:
        pytest.skip("this process cannot make a folder read-only for its children")
    made = [probe]

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)
        made.append(folder)
        return folder

    yield make
    for folder in made:
        folder.chmod(0o755)


def test_read_only_output_folder_is_refused_before_training(tmp_path, read_only):
    out = read_only(tmp_path / "runs")
    result = run_train(*TINY, "--no-install", "--out", out, preexec_fn=without_root_privileges)
    assert_one_error_line(result, out, "Permission denied", "--out")
    assert "Training" not in result.stdout and list(out.iterdir()) == []


def test_read_only_run_folder_is_refused_before_resuming(run_copy, read_only):
    read_only(run_copy)
    result = run_train("--resume", run_copy, "--quiet", "--no-install", preexec_fn=without_root_privileges)
    assert_one_error_line(result, run_copy, "Permission denied", "writable")
    assert "Training" not in result.stdout


def test_read_only_models_folder_is_refused_before_training(tmp_path, read_only):
    models = read_only(tmp_path / "models")
    result = run_train(
        *TINY, "--install", "--out", tmp_path / "runs", "--models-dir", models, preexec_fn=without_root_privileges
    )
    assert_one_error_line(result, models, "Permission denied", "--no-install")
    assert "Training" not in result.stdout


# --- what a SIGKILL leaves behind, and what a resume gives back ----------------------------------


def test_sigkill_leftovers_are_removed_on_resume(tmp_path):
    """Killed while writing epoch 2's checkpoint, then (resumed) while writing model_float32.npz:
    each resume removes the temporary the kill left, and the last one completes the run."""
    out = tmp_path / "runs"
    first = run_train(
        "--limit", 300, "--epochs", 2, "--arch", "mlp", "--quiet", "--no-install", "--out", out,
        failing_fsync=("kill", "3"),
    )  # fmt: skip
    assert first.returncode == -9
    run = next(out.iterdir())
    assert [name.split(".")[1] for name in temporaries(run)] == ["checkpoint"]
    # The resume writes epoch 2's checkpoint (fsync 1), history.csv (2), then model_float32.npz (3).
    second = run_train("--resume", run, "--quiet", "--no-install", failing_fsync=("kill", "3"))
    assert second.returncode == -9
    assert "Removed .checkpoint.npz." in second.stdout
    assert [name.split(".")[1] for name in temporaries(run)] == ["model_float32"]
    third = run_train("--resume", run, "--quiet", "--no-install")
    assert third.returncode == 0, third.stderr
    assert "Removed .model_float32.npz." in third.stdout
    assert temporaries(run) == []
    header = (run / "history.csv").read_text().splitlines()[0]
    assert header == ",".join(f.name for f in fields(EpochRecord))


def test_history_csv_keeps_its_columns_after_resume(finished_run):
    """The checkpoint stores the history as sorted JSON; resuming must not sort history.csv's columns."""
    before = (finished_run / "history.csv").read_text()
    config = TrainConfig(**json.loads((finished_run / "config.json").read_text())["train"])
    trainer = Trainer(Sequential.from_config(mlp_config(outputs=11)), config, finished_run)  # +"not a digit"
    trainer.load_checkpoint()
    assert history_csv(trainer.state.history).splitlines()[0] == before.splitlines()[0]
    assert before.splitlines()[0].startswith("epoch,train_loss,train_accuracy,val_loss")


# --- the Trainer's checkpoint validation, in process ----------------------------------------------


@pytest.fixture(scope="module")
def saved_trainer(tmp_path_factory):
    """A checkpoint of one epoch of an mlp on 256 random images (the values do not matter here)."""
    rng = np.random.default_rng(0)
    x, y = rng.random((256, 28, 28), dtype=np.float32), rng.integers(0, 10, 256)
    config = TrainConfig(epochs=2, batch_size=64, augment=False)
    run = tmp_path_factory.mktemp("ckpt")
    trainer = Trainer(Sequential.from_config(mlp_config()), config, run)
    trainer.fit(x, y, x[:64], y[:64])
    return run / "checkpoint.npz", config


def fresh_trainer(config):
    return Trainer(Sequential.from_config(mlp_config(), np.random.default_rng(7)), config)


def set_array(name, value):
    def edit(arrays):
        arrays[name] = value(arrays[name])

    return edit


def set_state(edit_state):
    def edit(arrays):
        state = array_json(arrays["state"])
        edit_state(state)
        arrays["state"] = json_array(state)

    return edit


def put(where, key, value):
    def edit(state):
        node = state
        for step in where:
            node = node[step]
        node[key] = value

    return edit


CHECKPOINT_DEFECTS = {
    "inf in a moment": (set_array("optimizer/v_sum/0.W", lambda a: np.where(a == a.flat[0], np.inf, a)), "infinite"),
    "float64 weights": (set_array("model/0.W", lambda a: a.astype(np.float64)), "float64"),
    "negative running variance": (set_array("best/1.running_var", lambda a: -np.ones_like(a)), "best weights"),
    "huge current weights": (set_array("model/8.W", lambda a: np.full_like(a, 3e38)), "current weights"),
    "an extra array": (lambda arrays: arrays.update({"model/99.W": np.zeros(3, np.float32)}), "unexpected array"),
    "a pickled array": (set_array("model/0.b", lambda a: np.array([None], object)), "object"),
    "state not JSON": (lambda arrays: arrays.update(state=np.frombuffer(b"{oops", np.uint8)), "not valid JSON"),
    "state nested deep": (lambda arrays: arrays.update(state=np.frombuffer(b"[" * 100_000, np.uint8)), "deep"),
    "state a list": (lambda arrays: arrays.update(state=json_array([1, 2])), "JSON object"),
    "state without rng": (set_state(lambda s: s.pop("rng")), "'rng'"),
    "rng of another kind": (set_state(put(("rng",), "bit_generator", "MT19937")), "rng"),
    "rng garbage": (set_state(put((), "rng", {"bit_generator": "PCG64", "state": 3})), "rng"),
    "other settings": (set_state(put(("config",), "lr", 0.5)), "lr differ"),
    "epoch a float": (set_state(put(("train",), "epoch", 1.0)), "whole numbers"),
    "epoch beyond the run": (set_state(put(("train",), "epoch", 9)), "whole numbers"),
    "best epoch not run": (set_state(put(("train",), "best_epoch", 3)), "best_epoch"),
    "best loss not the epoch's": (set_state(put(("train",), "best_val_loss", -1.0)), "best_val_loss"),
    "history too short": (set_state(put(("train",), "history", [])), "history"),
    "history row with an extra key": (set_state(lambda s: s["train"]["history"][0].update(x=1)), r"history\[0\]"),
    "history with a string": (set_state(put(("train", "history", 0), "seconds", "1")), "finite number"),
    "train with an extra key": (set_state(put(("train",), "oops", 1)), "exactly"),
    "optimizer steps disagree": (set_array("optimizer/t", lambda a: a + 1), "step count"),
    "architecture not an object": (set_state(put((), "architecture", [])), "architecture"),
    "architecture invalid": (set_state(put(("architecture", "layers", 0), "out_features", -1)), r"layers\[0\]"),
}


@pytest.mark.parametrize("defect", list(CHECKPOINT_DEFECTS))
def test_damaged_checkpoints_are_refused_and_change_nothing(saved_trainer, tmp_path, defect):
    source, config = saved_trainer
    edit, match = CHECKPOINT_DEFECTS[defect]
    arrays = checkpoint_arrays(source)
    edit(arrays)
    path = tmp_path / "checkpoint.npz"
    with open(path, "wb") as f:
        np.savez(f, **arrays, allow_pickle=True)
    trainer = fresh_trainer(config)
    before = {k: v.copy() for k, v in trainer.model.state_arrays().items()}
    with pytest.raises(ModelFormatError, match=match) as info:
        trainer.load_checkpoint(path)
    assert str(path) in str(info.value)
    assert trainer.state.epoch == 0
    for key, value in trainer.model.state_arrays().items():
        assert np.array_equal(value, before[key]), key


def test_a_sound_checkpoint_still_loads(saved_trainer):
    source, config = saved_trainer
    trainer = fresh_trainer(config)
    trainer.load_checkpoint(source)
    assert trainer.state.epoch == 2 and len(trainer.state.history) == 2
    assert list(trainer.state.history[0]) == [f.name for f in fields(EpochRecord)]


def test_checkpoints_with_the_earlier_adam_moments_still_load(saved_trainer, tmp_path):
    """AdamW reads the plain moments ("m/", "v/") earlier checkpoints held; validation accepts them too."""
    source, config = saved_trainer
    arrays = checkpoint_arrays(source)
    for name in [n for n in arrays if n.startswith("optimizer/m_sum/") or n.startswith("optimizer/v_sum/")]:
        arrays[name.replace("_sum/", "/", 1)] = arrays.pop(name) * np.float32(0.1)
    write_checkpoint(tmp_path / "checkpoint.npz", arrays)
    trainer = fresh_trainer(config)
    trainer.load_checkpoint(tmp_path / "checkpoint.npz")
    assert trainer.state.epoch == 2


def test_a_zip_bomb_in_a_checkpoint_is_refused_before_it_is_inflated(saved_trainer, tmp_path):
    source, config = saved_trainer
    path = tmp_path / "checkpoint.npz"
    shutil.copy(source, path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("junk.npy", b"\0" * (50 << 20))  # 50 MB of zeros, 50 kB in the file
    with pytest.raises(ModelFormatError, match="unexpected"):
        fresh_trainer(config).load_checkpoint(path)


def test_a_nan_validation_loss_is_not_checkpointed(tmp_path):
    """An update can make the weights overflow on an epoch's last step, after that step's loss was
    checked: validation catches it, and the previous epoch's checkpoint stays as it was."""
    rng = np.random.default_rng(0)
    x, y = rng.random((128, 28, 28), dtype=np.float32), rng.integers(0, 10, 128)
    config = TrainConfig(epochs=3, batch_size=128, augment=False)
    trainer = Trainer(Sequential.from_config(mlp_config()), config, tmp_path)
    real_step = trainer.step

    def step_that_overflows_in_epoch_two(images, labels, lr):
        out = real_step(images, labels, lr)
        if trainer.state.epoch == 1:
            trainer.model.layers[0].params["b"][:] = np.inf
        return out

    trainer.step = step_that_overflows_in_epoch_two  # type: ignore[method-assign]
    with pytest.raises(TrainingDivergedError, match="validation loss") as info:
        trainer.fit(x, y, x, y)
    assert "untouched" in str(info.value)
    saved = fresh_trainer(config)
    saved.load_checkpoint(tmp_path / "checkpoint.npz")
    assert saved.state.epoch == 1


# --- every model written is loaded back before it is installed ------------------------------------


def test_a_model_file_that_does_not_load_back_stops_the_export(tmp_path, monkeypatch):
    model = Sequential.from_config(mlp_config())
    images = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    loaded = save_verified(model, tmp_path / "good.npz", images, card={})
    assert np.array_equal(loaded.predict_proba(images), model.predict_proba(images))

    import digits.export

    real_save = digits.export.save_model

    def save_damaged(model, path, card=None):
        real_save(model, path, card=card)
        arrays = checkpoint_arrays(path)
        arrays["0.W"] = np.full_like(arrays["0.W"], np.nan)
        write_checkpoint(path, arrays)

    monkeypatch.setattr(digits.export, "save_model", save_damaged)
    with pytest.raises(ExportError, match="does not load back"):
        save_verified(model, tmp_path / "bad.npz", images, card={})


def test_install_refuses_a_model_that_does_not_load_and_leaves_models_alone(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "mnist_int8.npz").write_bytes(b"the shipped model")
    bad = tmp_path / "model_int8.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    card = ModelCard(name="x", arch="mlp")
    with pytest.raises(ExportError, match="nothing was installed"):
        install_model(bad, card, models)
    assert (models / "mnist_int8.npz").read_bytes() == b"the shipped model"
    assert sorted(p.name for p in models.iterdir()) == ["mnist_int8.npz"]


def test_install_removes_temporaries_of_an_install_that_was_killed(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / ".mnist_int8.npz.abcdefgh.tmp").write_bytes(b"half a model")
    (models / ".other.npz.abcdefgh.tmp").write_bytes(b"not ours")
    model = Sequential.from_config(mlp_config())
    path = tmp_path / "model.npz"
    save_verified(model, path, np.zeros((1, 28, 28), np.float32), card={})
    install_model(path, ModelCard(name="x", arch="mlp"), models)
    assert sorted(p.name for p in models.iterdir()) == [".other.npz.abcdefgh.tmp", "mnist_int8.json", "mnist_int8.npz"]


def test_os_errors_name_the_file_the_atomic_writer_was_writing(tmp_path, monkeypatch):
    from engine.atomic import atomic_write_text

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        atomic_write_text(tmp_path / "notes.txt", "x")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "notes.txt")
    assert list(tmp_path.iterdir()) == []


def test_random_edits_of_a_checkpoints_state_are_refused_or_load(tmp_path):
    """300 seeded edits anywhere in the state JSON (tests/fuzz_mutants.py's JSON edits) of a tiny
    model's checkpoint: each is a ModelFormatError or loads; nothing else escapes."""
    from fuzz_mutants import edit_json

    architecture = {"input_shape": [784], "layers": [{"type": "Dense", "in_features": 784, "out_features": 10}]}
    config = TrainConfig(epochs=2, batch_size=32, augment=False)
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)
    Trainer(Sequential.from_config(architecture), config, tmp_path).fit(x, y, x, y)
    good = checkpoint_arrays(tmp_path / "checkpoint.npz")
    state = array_json(good["state"])
    outcomes = collections.Counter()
    for i in range(300):
        edited, where = edit_json(random.Random(f"state-{i}"), state)
        write_checkpoint(tmp_path / "edited.npz", {**good, "state": json_array(edited)})
        try:
            Trainer(Sequential.from_config(architecture), config).load_checkpoint(tmp_path / "edited.npz")
            outcomes["loaded"] += 1
        except ModelFormatError:
            outcomes["refused"] += 1
        except Exception as exc:  # what the test is looking for
            raise AssertionError(f"edit {i} ({where}) escaped: {type(exc).__name__}: {exc}") from None
    assert outcomes["refused"] > 150, outcomes
