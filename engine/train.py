"""The training loop: mini-batches, augmentation, validation, early stopping, checkpoints.

``Trainer.fit`` runs epochs until done or until the validation loss has not
improved for ``patience`` epochs, then restores the best weights. After every
epoch it writes a checkpoint atomically (model, best model, optimizer state,
RNG state, history), so Ctrl-C or a crash loses at most the running epoch and
``resume`` continues exactly where the last checkpoint left off: a resumed run
ends with the same weights as an uninterrupted one.
"""

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .augment import AugmentConfig, Augmenter
from .errors import ModelFormatError, TrainingDivergedError
from .losses import softmax_cross_entropy
from .model import Sequential
from .npz import array_json, json_array, write_npz_atomic
from .optimizers import make_optimizer
from .schedules import make_schedule

CHECKPOINT_NAME = "checkpoint.npz"


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 15  # passes over the training set
    batch_size: int = 128  # images per optimizer step
    lr: float = 3e-3  # peak learning rate of the schedule
    optimizer: str = "adamw"  # "adamw", "sgd" or "nesterov"
    schedule: str = "onecycle"  # "onecycle", "cosine" or "constant"
    weight_decay: float = 5e-4  # decoupled for AdamW, L2 for SGD; weights only
    label_smoothing: float = 0.05  # softens targets: better calibrated, slightly more accurate
    augment: bool = True  # random affine warps of training images
    elastic: bool = False  # elastic distortion on top (slower to converge, more robust)
    patience: int = 6  # early stopping: epochs without a better validation loss
    seed: int = 0  # every random choice derives from this


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    lr: float
    seconds: float
    images_per_second: float


@dataclass
class TrainState:
    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken
    best_val_loss: float = math.inf
    best_epoch: int = 0
    history: list = field(default_factory=list)


def evaluate(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on float32 images already shaped for it."""
    total_loss, correct = 0.0, 0
    for a in range(0, len(labels), batch_size):
        logits = model.forward(images[a : a + batch_size], training=False)
        loss, _ = softmax_cross_entropy(logits, labels[a : a + batch_size])
        total_loss += loss * len(logits)
        correct += int((logits.argmax(axis=1) == labels[a : a + batch_size]).sum())
    return total_loss / max(len(labels), 1), correct / max(len(labels), 1)


class Trainer:
    """Trains a Sequential model; ``on_batch`` and ``on_epoch`` callbacks report progress."""

    def __init__(self, model: Sequential, config: TrainConfig, run_dir=None, on_batch=None, on_epoch=None):
        self.model, self.config = model, config
        self.run_dir = Path(run_dir) if run_dir else None
        self.on_batch, self.on_epoch = on_batch, on_epoch
        self.rng = np.random.default_rng(config.seed + 1)  # +1: independent of the weight initialization
        self.optimizer = make_optimizer(config.optimizer, model.parameters(), config.weight_decay)
        self.augment = Augmenter(AugmentConfig(elastic=config.elastic)) if config.augment else None
        self.state = TrainState()
        self.best_arrays = {k: v.copy() for k, v in model.state_arrays().items()}

    # -- checkpoints ----------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path | None:
        return self.run_dir / CHECKPOINT_NAME if self.run_dir else None

    def save_checkpoint(self) -> None:
        arrays = {f"model/{k}": v for k, v in self.model.state_arrays().items()}
        arrays.update({f"best/{k}": v for k, v in self.best_arrays.items()})
        arrays.update({f"optimizer/{k}": v for k, v in self.optimizer.state_dict().items()})
        arrays["state"] = json_array(
            {
                "train": asdict(self.state),
                "config": asdict(self.config),
                "architecture": self.model.config(),
                "rng": self.rng.bit_generator.state,
            }
        )
        write_npz_atomic(self.checkpoint_path, arrays, compress=False)

    def load_checkpoint(self, path=None) -> None:
        """Restore model, best model, optimizer, RNG and history from a checkpoint of the same setup."""
        path = path or self.checkpoint_path
        if path is None:
            raise TypeError("load_checkpoint needs a path when the trainer has no run_dir")
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            meta = array_json(arrays["state"])
        except (OSError, KeyError, ValueError) as exc:
            raise ModelFormatError(f"{path}: not a readable checkpoint ({exc}); start without --resume") from None
        if meta["architecture"] != self.model.config():
            raise ModelFormatError(
                f"{path}: checkpoint architecture differs from this run's; "
                "resume with the flags of the original run (see its config.json)"
            )
        self.model.load_state_arrays({k[6:]: v for k, v in arrays.items() if k.startswith("model/")})
        self.best_arrays = {k[5:]: v.copy() for k, v in arrays.items() if k.startswith("best/")}
        self.optimizer.load_state_dict({k[10:]: v for k, v in arrays.items() if k.startswith("optimizer/")})
        self.rng.bit_generator.state = meta["rng"]
        self.state = TrainState(**meta["train"])

    # -- one step -------------------------------------------------------------------
    def step(self, images: np.ndarray, labels: np.ndarray, lr: float) -> tuple[float, np.ndarray]:
        """One optimizer step on a batch: forward, loss, backward, update. Returns (loss, logits).

        ``images`` are float32, (N, 28, 28) or already shaped for the model; augmentation
        is the caller's. A NaN or infinite loss raises TrainingDivergedError before any
        weight changes.
        """
        model = self.model
        logits = model.forward(images.reshape((len(labels),) + model.input_shape), training=True, rng=self.rng)
        loss, dlogits = softmax_cross_entropy(logits, labels, self.config.label_smoothing)
        if not math.isfinite(loss):
            raise TrainingDivergedError(f"loss became {loss} at step {self.state.step + 1}; lower the learning rate")
        model.backward(dlogits)
        self.optimizer.step(lr)
        self.state.step += 1
        return loss, logits

    # -- the loop -------------------------------------------------------------------
    def fit(self, train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray) -> TrainState:
        """Train on float32 images (N,28,28) in [0,1] and int labels; returns the final state."""
        cfg, model = self.config, self.model
        steps_per_epoch = math.ceil(len(train_y) / cfg.batch_size)
        schedule = make_schedule(cfg.schedule, cfg.lr, cfg.epochs * steps_per_epoch)
        val_in = val_x.reshape((len(val_x),) + model.input_shape)
        patience_left = cfg.patience - (self.state.epoch - self.state.best_epoch)
        while self.state.epoch < cfg.epochs and patience_left > 0:
            epoch = self.state.epoch + 1
            start = time.perf_counter()
            order = self.rng.permutation(len(train_y))
            loss_sum, correct, seen = 0.0, 0, 0
            for b in range(steps_per_epoch):
                idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
                xb, yb = train_x[idx], train_y[idx]
                if self.augment is not None:
                    xb = self.augment(xb, self.rng)
                lr = schedule(self.state.step)
                try:
                    loss, logits = self.step(xb, yb, lr)
                except TrainingDivergedError as exc:
                    kept = (
                        f" The last good checkpoint ({self.checkpoint_path}) is untouched."
                        if self.checkpoint_path and self.checkpoint_path.exists()
                        else ""
                    )
                    raise TrainingDivergedError(f"epoch {epoch}: {exc}.{kept}") from None
                loss_sum += loss * len(idx)
                correct += int((logits.argmax(axis=1) == yb).sum())
                seen += len(idx)
                if self.on_batch:
                    self.on_batch(
                        epoch,
                        b + 1,
                        steps_per_epoch,
                        loss_sum / seen,
                        correct / seen,
                        seen / (time.perf_counter() - start),
                    )
            train_seconds = time.perf_counter() - start
            val_loss, val_acc = evaluate(model, val_in, val_y)
            record = EpochRecord(
                epoch,
                loss_sum / seen,
                correct / seen,
                val_loss,
                val_acc,
                lr,
                time.perf_counter() - start,
                seen / train_seconds,
            )
            self.state.history.append(asdict(record))
            self.state.epoch = epoch
            if val_loss < self.state.best_val_loss:
                self.state.best_val_loss, self.state.best_epoch = val_loss, epoch
                self.best_arrays = {k: v.copy() for k, v in model.state_arrays().items()}
            patience_left = cfg.patience - (epoch - self.state.best_epoch)
            if self.run_dir:
                self.save_checkpoint()
            if self.on_epoch:
                self.on_epoch(record, self.state)
        model.load_state_arrays(self.best_arrays)  # early stopping keeps the best epoch's weights
        return self.state


def stratified_split(labels: np.ndarray, n_val: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices) with each class represented in proportion in validation."""
    labels = np.asarray(labels)
    if not 0 < n_val < len(labels):
        raise ValueError(f"validation size must be between 1 and {len(labels) - 1}, got {n_val}")
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.floor(counts * n_val / len(labels)).astype(int)
    remainder = counts * n_val / len(labels) - quota
    quota[np.argsort(-remainder)[: n_val - quota.sum()]] += 1  # largest remainders get the leftovers
    val = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:q] for c, q in zip(classes, quota)])
    val.sort()
    mask = np.ones(len(labels), bool)
    mask[val] = False
    return np.flatnonzero(mask), val
