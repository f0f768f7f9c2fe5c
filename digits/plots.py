"""The run folder's pictures: learning curves and the test confusion matrix (matplotlib, optional)."""

from pathlib import Path

import numpy as np


def write_plots(run: Path, history: list[dict], confusion: list[list[int]]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping plots (pip install matplotlib)")
        return
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax1.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax1.set(xlabel="epoch", ylabel="loss", title="Loss")
    ax2.plot(epochs, [h["train_accuracy"] for h in history], label="train")
    ax2.plot(epochs, [h["val_accuracy"] for h in history], label="validation")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for ax in (ax1, ax2):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(run / "curves.png", dpi=110)
    plt.close(fig)
    cm = np.array(confusion)
    fig, ax = plt.subplots(figsize=(6, 5.5))
    shown = np.log1p(cm)  # log scale: the diagonal would otherwise hide every mistake
    ax.imshow(shown, cmap="Blues")
    for i in range(10):
        for j in range(10):
            ax.text(
                j,
                i,
                str(cm[i, j]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if shown[i, j] > shown.max() * 0.6 else "black",
            )
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true", title="Test confusion matrix")
    fig.tight_layout()
    fig.savefig(run / "confusion.png", dpi=110)
    plt.close(fig)
