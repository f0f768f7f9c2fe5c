"""A training run's folder: runs/<date>T<time>-<arch>/ with its flags, history, reports and models.

config.json holds the flags and the command, so ``--resume RUN_DIR`` can continue
with exactly the settings the run started with.
"""

import hashlib
import json
from datetime import datetime
from pathlib import Path

import numpy as np

from engine.atomic import atomic_write_text

CONFIG_NAME = "config.json"


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
    return json.loads((run / CONFIG_NAME).read_text())


def history_csv(history: list[dict]) -> str:
    """One row per epoch, columns in the order of the first record."""
    if not history:
        return ""
    keys = list(history[0])
    lines = [",".join(keys)] + [",".join(json.dumps(row[k]) for k in keys) for row in history]
    return "\n".join(lines) + "\n"


def write_history(run: Path, history: list[dict]) -> None:
    atomic_write_text(run / "history.csv", history_csv(history))
