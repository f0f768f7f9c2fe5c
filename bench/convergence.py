"""How training converges: full-batch gradient descent vs mini-batch SGD, SGD with momentum and AdamW.

    python bench/convergence.py [--epochs 15] [--limit N] [--out bench/out]
    python bench/convergence.py --quick            # a few seconds on a tiny subset (the test's run)

The MLP (``engine.architectures.mlp_config``: BatchNorm, ReLU, dropout), the same stratified
5,000-image validation split as training, the same initial weights and the same number of
epochs for every method, so each sees the same number of examples; only how many steps an
epoch makes (and the update rule) differs:

- full-batch GD: one step per epoch on the gradient of the whole training set, summed over
  chunks of 5,000 images (so BatchNorm normalizes each chunk with its own statistics);
- mini-batch SGD (batch 128, no momentum), SGD with momentum 0.9 (batch 128), AdamW (batch
  128, decoupled weight decay 5e-4), the engine's own optimizers.

Constant learning rates, one per method, chosen by hand from the usual ranges (not tuned by
a sweep); no augmentation, no label smoothing. Validation runs after every epoch and is
not counted in the wall time. Writes ``convergence.png`` (loss and accuracy against
epochs and against seconds) and ``convergence.md`` (the table printed at the end) into
``--out``.
"""

import argparse
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS_DIR, framework_threads, machine

from digits.mnist import load_mnist
from engine.architectures import mlp_config
from engine.images import unit_float
from engine.losses import softmax_cross_entropy
from engine.model import Sequential
from engine.optimizers import SGD, AdamW
from engine.train import evaluate, stratified_split

TARGETS = (0.90, 0.95, 0.98)
BATCH = 128
FULL_BATCH_CHUNK = 5000  # images per forward/backward of full-batch GD's gradient
# name -> (batch size or None for the whole training set, learning rate, optimizer factory)
METHODS = {
    "full-batch GD": (None, 0.5, lambda params: SGD(params, momentum=0.0)),
    "mini-batch SGD": (BATCH, 0.05, lambda params: SGD(params, momentum=0.0)),
    "SGD + momentum 0.9": (BATCH, 0.05, lambda params: SGD(params, momentum=0.9)),
    "AdamW": (BATCH, 2e-3, lambda params: AdamW(params, weight_decay=5e-4)),
}


def cpu_model() -> str:
    """The CPU's model name as lscpu gives it (the benchmarks' /proc/cpuinfo reading otherwise)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.strip().startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return machine()["cpu"]


def split(mnist, limit=None, val_size=5000, seed=0):
    """(train x, train y, val x, val y): float32 images in [0, 1], the stratified validation split."""
    train_idx, val_idx = stratified_split(mnist["train_labels"], val_size, np.random.default_rng(seed))
    if limit:
        train_idx = train_idx[:limit]
    return (
        unit_float(mnist["train_images"][train_idx]).reshape(-1, 784),
        mnist["train_labels"][train_idx].astype(np.int64),
        unit_float(mnist["train_images"][val_idx]).reshape(-1, 784),
        mnist["train_labels"][val_idx].astype(np.int64),
    )


def full_batch_step(model, optimizer, x, y, lr, rng) -> float:
    """One gradient descent step on the mean loss over all of ``x``; returns that loss."""
    params = model.parameters()
    total = {key: np.zeros_like(g) for key, _, g in params}
    loss_sum = 0.0
    for a in range(0, len(y), FULL_BATCH_CHUNK):
        xb, yb = x[a : a + FULL_BATCH_CHUNK], y[a : a + FULL_BATCH_CHUNK]
        logits = model.forward(xb, training=True, rng=rng)
        loss, dlogits = softmax_cross_entropy(logits, yb)
        model.backward(dlogits)
        weight = np.float32(len(yb) / len(y))  # the chunk's share of the mean
        for key, _, g in params:
            total[key] += g * weight
        loss_sum += loss * len(yb)
    for key, _, g in params:
        g[...] = total[key]
    optimizer.step(lr)
    return loss_sum / len(y)


def train(method: str, data, epochs: int, seed: int = 0) -> list[dict]:
    """Per epoch: train loss (mean over its steps), validation loss and accuracy, seconds so far."""
    batch, lr, make = METHODS[method]
    x, y, vx, vy = data
    model = Sequential.from_config(mlp_config(), np.random.default_rng(seed))  # the same start for every method
    optimizer = make(model.parameters())
    rng = np.random.default_rng(seed + 1)
    history, seconds = [], 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        if batch is None:
            train_loss = full_batch_step(model, optimizer, x, y, lr, rng)
        else:
            order, losses = rng.permutation(len(y)), []
            for b in range(math.ceil(len(y) / batch)):
                idx = order[b * batch : (b + 1) * batch]
                logits = model.forward(x[idx], training=True, rng=rng)
                loss, dlogits = softmax_cross_entropy(logits, y[idx])
                model.backward(dlogits)
                optimizer.step(lr)
                losses.append(loss * len(idx))
            train_loss = sum(losses) / len(y)
        seconds += time.perf_counter() - start
        val_loss, val_acc = evaluate(model, vx, vy)
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "seconds": seconds,
            }
        )
        print(f"  {method:>20}  epoch {epoch:3d}  val {val_acc * 100:6.2f}%  loss {val_loss:.4f}  {seconds:6.1f} s")
    return history


def first_reaching(history: list[dict], target: float) -> dict | None:
    return next((h for h in history if h["val_accuracy"] >= target), None)


def markdown(results: dict, info: dict) -> str:
    head = "| method | batch | lr | steps/epoch | final val acc | " + " | ".join(
        f"to {t * 100:.0f}%: epochs / s" for t in TARGETS
    )
    lines = [
        f"CPU: {info['cpu']} · {info['threads']} engine threads · {info['train']:,} training images, "
        f"{info['val']:,} validation · {info['epochs']} epochs each",
        "",
        head + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(TARGETS),
    ]
    for method, history in results.items():
        batch, lr, _ = METHODS[method]
        steps = 1 if batch is None else math.ceil(info["train"] / batch)
        cells = []
        for t in TARGETS:
            hit = first_reaching(history, t)
            cells.append(f"{hit['epoch']} / {hit['seconds']:.1f}" if hit else "not reached")
        lines.append(
            f"| {method} | {'all' if batch is None else batch} | {lr:g} | {steps} | "
            f"{history[-1]['val_accuracy'] * 100:.2f}% | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def plot(results: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    floor = min([80.0] + [h[-1]["val_accuracy"] * 100 - 5 for h in results.values()])  # every final point shows
    for method, history in results.items():
        epochs = [h["epoch"] for h in history]
        seconds = [h["seconds"] for h in history]
        for col, xs in ((0, epochs), (1, seconds)):
            axes[0, col].plot(xs, [h["val_loss"] for h in history], marker=".", label=method)
            axes[1, col].plot(xs, [h["val_accuracy"] * 100 for h in history], marker=".", label=method)
    for col, xlabel in ((0, "epoch"), (1, "training seconds (validation not counted)")):
        axes[0, col].set(xlabel=xlabel, ylabel="validation loss", yscale="log")
        axes[1, col].set(xlabel=xlabel, ylabel="validation accuracy (%)", ylim=(floor, 100))
        for t in TARGETS:
            axes[1, col].axhline(t * 100, color="gray", lw=0.5, ls=":")
    for ax in axes.reshape(-1):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(epochs: int, limit: int | None, val_size: int, out: Path, mnist=None) -> dict:
    mnist = mnist or load_mnist(log=print)
    data = split(mnist, limit, val_size)
    results = {}
    with framework_threads(pytorch=False):
        for method in METHODS:
            results[method] = train(method, data, epochs)
    info = {
        "cpu": cpu_model(),
        "threads": machine()["threads"],
        "train": len(data[1]),
        "val": len(data[3]),
        "epochs": epochs,
    }
    table = markdown(results, info)
    out.mkdir(parents=True, exist_ok=True)
    plot(results, out / "convergence.png", f"MLP on {info['train']:,} MNIST training images, {info['cpu']}")
    (out / "convergence.md").write_text(table + "\n")
    return {"results": results, "info": info, "table": table}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--limit", type=int, help="only the first N training images (default: all 55,000)")
    p.add_argument("--val-size", type=int, default=5000)
    p.add_argument("--out", type=Path, default=RESULTS_DIR)
    p.add_argument("--quick", action="store_true", help="2,000 training images, 1,000 validation, 6 epochs")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.limit, args.val_size = 6, 2000, 1000
    result = run(args.epochs, args.limit, args.val_size, args.out)
    print()
    print(result["table"])
    print(f"\nwrote {args.out / 'convergence.png'} and {args.out / 'convergence.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
