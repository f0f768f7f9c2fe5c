"""From a trained float model to the shipped int8 file, with a comparison report.

Every candidate (calibration method x inference path) is scored on the
validation split; the best one ships. The test set is evaluated for the report
only, after the choice. Every model file is loaded back with ``engine.load_model``
right after it is written, and must predict what the model in memory does, before
anything is installed.
"""

import json
import os
import time
from pathlib import Path

import numpy as np

from engine import ModelFormatError, load_model, save_model
from engine.atomic import atomic_write_bytes, atomic_write_text, remove_stale_temporaries
from engine.metrics import classification_report
from engine.quantize import CALIBRATION_METHODS, INFERENCE_MODES, quantize

from .gallery import GALLERY_NAME, write_gallery
from .install_rule import InstallRule
from .model_card import ModelCard
from .reject_threshold import KEEP_DIGITS, chosen_rule

CALIBRATION_IMAGES = 500
INSTALLED_NAMES = ("mnist_int8.npz", "mnist_int8.json", GALLERY_NAME)
VERIFY_IMAGES = 100  # a saved model, loaded back, must predict these as the model in memory does
SHIPPED_INFERENCE = "int8"  # what the chosen file runs (see quantize_and_report)


class ExportError(RuntimeError):
    """A model file that was just written does not load back as the model that was saved."""


def save_verified(model, path: Path, images: np.ndarray, card: dict | None = None):
    """``save_model``, then ``load_model`` of the file, which must predict what ``model`` does on ``images``;
    returns the loaded model. ExportError, naming the file, otherwise."""
    save_model(model, path, card=card)
    try:
        loaded = load_model(path)
    except ModelFormatError as exc:
        raise ExportError(
            f"{str(exc).splitlines()[0]}: the model just written does not load back; nothing was installed"
        ) from None
    images = images[:VERIFY_IMAGES]
    expected, got = model.predict_proba(images), loaded.predict_proba(images)
    if not (np.array_equal(expected.argmax(axis=1), got.argmax(axis=1)) and np.allclose(expected, got, atol=1e-5)):
        raise ExportError(
            f"{path}: loaded back, the model predicts differently from the one saved; nothing was installed"
        )
    return loaded


def latency_ms(model, images: np.ndarray, repeats: int) -> float:
    """Median wall time in ms of ``model.predict_proba(images)`` over ``repeats`` runs (after a warm-up)."""
    model.predict_proba(images)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(images)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def comparison_row(name: str, model, path: Path, test_images, test_labels, val_images, val_labels) -> dict:
    test_pred = model.predict(test_images)
    return {
        "model": name,
        "inference": getattr(model, "inference", "float32"),  # a quantized model's path, else float32
        "val_accuracy": float((model.predict(val_images) == val_labels).mean()),
        "test_accuracy": float((test_pred == test_labels).mean()),
        "file_bytes": os.path.getsize(path),
        "latency_1_ms": latency_ms(model, test_images[:1], 30),
        "latency_1000_ms": latency_ms(model, test_images[:1000], 3),
        "test_predictions": test_pred,
    }


def markdown_table(rows: list[dict]) -> str:
    lines = ["| model | val acc | test acc | file | 1 image | 1,000 images |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['val_accuracy'] * 100:.2f}% | {r['test_accuracy'] * 100:.2f}% | "
            f"{r['file_bytes'] / 1024:.1f} KB | {r['latency_1_ms']:.2f} ms | {r['latency_1000_ms']:.0f} ms |"
        )
    return "\n".join(lines)


def shipped_row(rows: list[dict]) -> dict:
    """The quantized variant to ship, of ``comparison_row``s: the exact-integer "int8" path.

    Its readings are the same bits in CPython, in Pyodide and on every BLAS kernel
    (tests/test_pyodide_parity.py, tests/test_bit_identity.py); float products are not. The
    dequantized variants are measured beside it. The best validation accuracy among the int8
    ones wins; on a tie the first listed (calibration order)."""
    exact = [r for r in rows if r["inference"] == SHIPPED_INFERENCE]
    if not exact:
        raise ValueError(f"no {SHIPPED_INFERENCE}-path variant among {[r['model'] for r in rows]}")
    return max(exact, key=lambda r: r["val_accuracy"])


def quantize_and_report(
    model,
    data: dict,
    train_x: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    run: Path,
    card: ModelCard,
    install_rule: InstallRule,
    models_dir: Path,
    log=print,
    val_digits: np.ndarray | None = None,
    keep_digits: float = KEEP_DIGITS,
    rejection_report=None,
) -> dict:
    """Quantize ``model``, compare every variant with the float model, write the winner; returns the report.

    The winner's "not a digit" threshold is the one that keeps ``keep_digits`` of
    ``val_digits`` (the validation images, uint8), when they are given;
    ``rejection_report(model) -> dict of card fields`` then describes what it rejects."""
    test_x, test_y = data["test_images"], data["test_labels"].astype(np.int64)
    calibration = train_x[:CALIBRATION_IMAGES]
    float_path = run / "model_float32.npz"
    rows = [comparison_row("float32", model, float_path, test_x, test_y, val_x, val_y)]
    candidates = {}
    for method in CALIBRATION_METHODS:
        quantized = quantize(model, calibration, method)
        for mode in INFERENCE_MODES:
            variant = quantized.with_inference(mode)
            path = run / f"model_int8_{method}_{mode}.npz"
            save_verified(variant, path, calibration, card=card.to_dict())
            rows.append(
                comparison_row(f"int8 ({mode}, {method} calibration)", variant, path, test_x, test_y, val_x, val_y)
            )
            candidates[rows[-1]["model"]] = (variant, path)
    best = shipped_row(rows[1:])
    chosen_model, chosen_path = candidates[best["model"]]
    rejection_fields = {}
    if val_digits is not None:
        rule = chosen_rule(chosen_model, val_digits, keep_digits)
        chosen_model = chosen_model.with_reject_rule(rule)
        rejection_fields = {"reject_threshold": rule.threshold, "reject_min_ink": rule.min_ink}
        if rejection_report is not None:
            rejection_fields.update(rejection_report(chosen_model))
    float_row = rows[0]
    agreement = float((best["test_predictions"] == float_row["test_predictions"]).mean())
    report = classification_report(test_y, best["test_predictions"])
    quant_card = card.updated(
        kind="int8",
        inference=chosen_model.inference,
        calibration=chosen_model.architecture["calibration"],
        test_accuracy=best["test_accuracy"],
        float_test_accuracy=float_row["test_accuracy"],
        val_accuracy=best["val_accuracy"],
        per_class_accuracy=[c["recall"] for c in report["per_class"]],
        agreement_with_float=agreement,
        parameters=chosen_model.count_params(),
        **rejection_fields,
    )
    for _ in range(3):  # the card states the file's size, which depends on the card: settle it
        save_model(chosen_model, run / "model_int8.npz", card=quant_card.to_dict())
        size = os.path.getsize(run / "model_int8.npz")
        if quant_card.file_bytes == size:
            break
        quant_card = quant_card.updated(file_bytes=size)
    save_verified(chosen_model, run / "model_int8.npz", calibration, card=quant_card.to_dict())
    for r in rows:
        r.pop("test_predictions")
    table = markdown_table(rows)
    summary = {"rows": rows, "chosen": best["model"], "agreement_with_float": agreement, "card": quant_card.to_dict()}
    atomic_write_text(
        run / "comparison.md",
        table + f"\n\nShipped: {best['model']} "
        f"(best validation accuracy of the exact-integer int8 variants); agrees with float32 on {agreement * 100:.2f}% of test images.\n",
    )
    atomic_write_text(run / "comparison.json", json.dumps(summary, indent=2))
    log(table)
    log(
        f"Chosen by validation accuracy among the exact-integer int8 variants: {best['model']}; agrees with float32 on {agreement * 100:.2f}% of "
        f"test images; {size / 1024:.1f} KB"
    )
    installed = Path(models_dir) / "mnist_int8.npz"
    decision = install_rule.decide(best["val_accuracy"], installed, val_x, val_y)
    if decision.install:
        install_model(run / "model_int8.npz", quant_card, models_dir)
        wrong = write_gallery(Path(models_dir) / GALLERY_NAME, load_model(installed), installed, test_x, test_y)
        log(f"Model {decision.reason}: {installed} (+ mnist_int8.json, {GALLERY_NAME}: its {wrong} test mistakes)")
    else:
        log(f"Model {decision.reason}. It is in {run / 'model_int8.npz'}")
    summary["installed"] = decision.install
    return summary


def install_model(model_path: Path, card: ModelCard, models_dir: Path) -> None:
    """Copy the int8 model and its card (JSON, for people and the benchmark report) into ``models_dir``.

    The model file must load (``engine.load_model``) before it is copied; temporaries of
    earlier installs that were killed midway are removed.
    """
    try:
        load_model(model_path)
    except ModelFormatError as exc:
        raise ExportError(f"{str(exc).splitlines()[0]}; nothing was installed") from None
    remove_stale_temporaries(models_dir, INSTALLED_NAMES)
    atomic_write_bytes(Path(models_dir) / "mnist_int8.npz", Path(model_path).read_bytes())
    atomic_write_text(Path(models_dir) / "mnist_int8.json", json.dumps(card.to_dict(), indent=2) + "\n")
