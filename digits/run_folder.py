"""A training run's folder: runs/<date>T<time>-<arch>/ with its flags, history, reports and models.

config.json holds the flags and the command, so ``--resume RUN_DIR`` can continue
with exactly the settings the run started with.
"""

import hashlib
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

import numpy as np

from engine.atomic import atomic_write_text

CONFIG_NAME = "config.json"
START_AFRESH = "start a new run without --resume"


class RunFolderError(ValueError):
    """A run folder (or the folder runs go to) that cannot be used: missing, unreadable, read-only."""


def make_run_dir(out: Path, arch: str) -> Path:
    stamp = datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
    run = out / f"{stamp}-{arch}"
    n = 1
    while run.exists():  # two runs in the same second
        n += 1
        run = out / f"{stamp}-{arch}-{n}"
    run.mkdir(parents=True)
    return run


def data_checksum(images: np.ndarray, labels: np.ndarray) -> str:
    return hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()


def write_config(run: Path, config: dict) -> None:
    atomic_write_text(run / CONFIG_NAME, json.dumps(config, indent=2))


def read_config(run: Path) -> dict:
    """The run's config.json as a dict; RunFolderError naming the file and what to do otherwise."""
    run = Path(run)
    path = run / CONFIG_NAME
    if not run.is_dir():
        raise RunFolderError(f"{run}: no such run folder; --resume takes a folder that train_offline.py made")
    if not path.is_file():
        raise RunFolderError(
            f"{path}: missing, so the run's flags are unknown; {run} is not a run folder made by "
            f"train_offline.py, or its config.json was deleted: {START_AFRESH}"
        )
    try:
        config = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot read ({exc.strerror or exc}); make it readable, then resume") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunFolderError(
            f"{path}: not valid JSON ({str(exc)[:80]}); restore the file the run wrote, or {START_AFRESH}"
        ) from None
    if not isinstance(config, dict):
        raise RunFolderError(f"{path}: must hold a JSON object, got {type(config).__name__}; {START_AFRESH}")
    return config


def check_writable(folder: Path, what: str, fix: str) -> None:
    """RunFolderError unless a file can be created in ``folder`` (made if missing): checked before
    training starts, so a read-only folder is not discovered after the work is done."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise RunFolderError(f"{folder}: cannot write the {what} there ({exc.strerror or exc}); {fix}") from None


def history_csv(history: list[dict]) -> str:
    """One row per epoch, columns in the order of the first record."""
    if not history:
        return ""
    keys = list(history[0])
    lines = [",".join(keys)] + [",".join(json.dumps(row[k]) for k in keys) for row in history]
    return "\n".join(lines) + "\n"


def write_history(run: Path, history: list[dict]) -> None:
    atomic_write_text(run / "history.csv", history_csv(history))
