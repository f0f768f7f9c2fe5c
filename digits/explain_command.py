"""``python -m digits explain IMAGE`` and ``python -m digits mistakes``: look inside a trained model.

    python -m digits explain digit.png [--model PATH] [--out FILE.png] [--target D] [--top-k K]
    python -m digits mistakes [--model PATH] [--out DIR] [--data DIR] [--correct N]

``explain`` reads the image as ``predict`` does (Pillow, ``engine.ink_on_dark``,
``engine.preprocess``), prints the top-k digits and writes one PNG: the 28x28 input, the
heat map of ``engine.explain.saliency`` over it (red: pushed toward the digit, blue: against
it) and the top-k probabilities. ``mistakes`` runs the model over MNIST's 10,000 test digits
and writes every one it gets wrong, and a sample of ones it gets right, as contact sheets
(mistakes.png, correct.png) and one CSV (mistakes.csv). The pictures need matplotlib.
"""

import csv
import sys
from pathlib import Path

import numpy as np

from engine import EngineError, ink_on_dark, load_model, preprocess
from engine.explain import METHODS, saliency

from .paths import SHIPPED_MODEL

SHEET_COLUMNS = 10  # digits per row of a contact sheet
MAX_CORRECT = 1000  # a contact sheet of 10,000 digits took minutes to draw


def add_parsers(sub) -> None:
    """The ``explain`` and ``mistakes`` subcommands, each with its function in ``run``."""
    ex = sub.add_parser("explain", help="heat map of what made the model read the digit in an image file")
    ex.add_argument("image", type=Path, help="an image file (PNG, JPEG, ...), any size, any polarity")
    ex.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    ex.add_argument("--out", type=Path, help="the PNG to write (default: <image name>-explain.png here)")
    ex.add_argument("--target", type=int, choices=range(10), metavar="{0..9}", help="digit to explain (its answer)")
    ex.add_argument("--top-k", type=int, default=3, choices=range(1, 11), metavar="{1..10}")
    ex.add_argument("--method", choices=METHODS, default="integrated_gradients")
    ex.add_argument("--steps", type=int, default=32, help="integrated gradients' path points (32)")
    ex.set_defaults(run=cmd_explain)
    mi = sub.add_parser("mistakes", help="every MNIST test digit the model gets wrong, as a contact sheet and a CSV")
    mi.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    mi.add_argument("--out", type=Path, default=Path("mistakes"), help="folder for the files (./mistakes)")
    mi.add_argument("--data", type=Path, help="folder with the MNIST IDX files (default: the cache)")
    mi.add_argument(
        "--correct", type=int, default=40, help=f"how many correctly read digits to sample (40, at most {MAX_CORRECT})"
    )
    mi.add_argument("--seed", type=int, default=0, help="which correct digits are sampled")
    mi.set_defaults(run=cmd_mistakes)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise EngineError("the pictures need matplotlib: pip install matplotlib") from None
    return plt


def explain_figure(x28: np.ndarray, heat: np.ndarray, probs: np.ndarray, target: int, top_k: int, title: str):
    """The figure: input, heat map over it (diverging, symmetric around 0), top-k probabilities."""
    plt = _pyplot()
    fig, (ax_in, ax_heat, ax_bar) = plt.subplots(1, 3, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1.25, 1]})
    ax_in.imshow(x28, cmap="gray", vmin=0, vmax=1)
    ax_in.set_title("input (28x28, as the model sees it)", fontsize=9)
    limit = float(np.abs(heat).max()) or 1.0
    shown = ax_heat.imshow(heat, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax_heat.contour(x28, levels=[0.3], colors="k", linewidths=0.6)  # the stroke's outline over the map
    bar = fig.colorbar(shown, ax=ax_heat, fraction=0.046, pad=0.04, ticks=[-limit, 0, limit])
    bar.ax.set_yticklabels([f"against {target}", "0", f"toward {target}"], fontsize=8)
    ax_heat.set_title(f"what pushed it toward {target}", fontsize=9)
    for ax in (ax_in, ax_heat):
        ax.set_xticks([])
        ax.set_yticks([])
    order = np.argsort(-probs)[:top_k]
    colours = ["tab:red" if d == target else "tab:gray" for d in order]
    ax_bar.barh(range(len(order))[::-1], probs[order] * 100, color=colours)
    ax_bar.set_yticks(range(len(order))[::-1], [str(d) for d in order])
    ax_bar.set_xlim(0, 100)
    ax_bar.set_xlabel("probability (%)")
    ax_bar.set_title(f"top {top_k}", fontsize=9)
    for row, d in zip(range(len(order))[::-1], order):
        ax_bar.text(min(probs[d] * 100 + 1, 80), row, f"{probs[d] * 100:.1f}%", va="center", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def cmd_explain(args) -> int:
    """Print the top-k for the image, write the heat map PNG; 1 for a bad file or an unwritable PNG."""
    from .cli import _named, decode_image

    model = load_model(args.model)
    try:
        x28 = preprocess(ink_on_dark(decode_image(args.image)))
    except EngineError as exc:
        raise _named(args.image, exc) from None
    probs = model.predict_proba(x28)[0]
    order = np.argsort(-probs)[: args.top_k]
    if x28.max() == 0:
        print(f"{args.image}: no ink found", file=sys.stderr)
        return 1
    target = int(order[0]) if args.target is None else args.target
    heat = saliency(model, x28, target=target, method=args.method, steps=args.steps)
    out = args.out or Path(f"{args.image.stem}-explain.png")
    title = f"{args.image.name}: {args.method.replace('_', ' ')} toward {target} ({Path(args.model).name})"
    fig = explain_figure(x28, heat, probs, target, args.top_k, title)
    try:
        fig.savefig(out, dpi=110)
    except OSError as exc:
        raise EngineError(f"{out}: cannot write the picture ({exc.strerror or exc})") from None
    finally:
        _pyplot().close(fig)
    ranked = "  ".join(f"{d} ({probs[d] * 100:.1f}%)" for d in order)
    print(f"{args.image}: {ranked}")
    print(f"heat map toward {target}: {out}")
    return 0


def contact_sheet(images, titles, path: Path, heading: str) -> None:
    """A grid of 28x28 images, each with its title, written to ``path``."""
    plt = _pyplot()
    rows = max(1, -(-len(images) // SHEET_COLUMNS))
    fig, axes = plt.subplots(rows, SHEET_COLUMNS, figsize=(SHEET_COLUMNS * 1.2, rows * 1.45 + 0.5), squeeze=False)
    for ax in axes.reshape(-1):
        ax.axis("off")
    for ax, image, title in zip(axes.reshape(-1), images, titles):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.set_title(title, fontsize=6.5)
    fig.suptitle(heading, fontsize=10)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def cmd_mistakes(args) -> int:
    """Write mistakes.png, correct.png and mistakes.csv into ``--out``; print the count."""
    from .gallery import find_mistakes
    from .mnist import load_mnist

    if args.seed < 0:
        raise EngineError(f"--seed must be 0 or more, got {args.seed}")
    if not 0 <= args.correct <= MAX_CORRECT:
        raise EngineError(
            f"--correct must be from 0 to {MAX_CORRECT} (digits on one contact sheet), got {args.correct}"
        )
    model = load_model(args.model)
    data = load_mnist(args.data, log=lambda msg: print(msg, file=sys.stderr))
    images, labels = data["test_images"], data["test_labels"].astype(np.int64)
    found = find_mistakes(model, images, labels)
    probs, predicted, wrong = found.probabilities, found.predicted, found.wrong
    right = np.flatnonzero(predicted == labels)
    sample = np.sort(np.random.default_rng(args.seed).choice(right, min(args.correct, len(right)), replace=False))
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "mistakes.csv", "w", newline="") as f:
            w = csv.writer(f)
            header = ["index", "label", "prediction", "correct", "p_prediction", "p_label", "top3"]
            w.writerow(header + [f"p{d}" for d in range(10)])
            for i in np.concatenate([wrong, sample]):
                top = np.argsort(-probs[i])[:3]
                w.writerow(
                    [int(i), int(labels[i]), int(predicted[i]), int(predicted[i] == labels[i])]
                    + [f"{probs[i, predicted[i]]:.4f}", f"{probs[i, labels[i]]:.4f}"]
                    + [" ".join(f"{d}:{probs[i, d]:.4f}" for d in top)]
                    + [f"{p:.4f}" for p in probs[i]]
                )
        name = Path(args.model).name
        contact_sheet(
            images[wrong],
            [f"#{i} label {labels[i]}\nread {predicted[i]} {probs[i, predicted[i]] * 100:.0f}%" for i in wrong],
            args.out / "mistakes.png",
            f"{name}: the {len(wrong)} MNIST test digits it gets wrong (label, what it read, its probability)",
        )
        contact_sheet(
            images[sample],
            [f"#{i} label {labels[i]}\nread {predicted[i]} {probs[i, predicted[i]] * 100:.0f}%" for i in sample],
            args.out / "correct.png",
            f"{name}: {len(sample)} test digits it reads right (random sample, seed {args.seed})",
        )
    except OSError as exc:
        raise EngineError(f"{args.out}: cannot write the files ({exc.strerror or exc})") from None
    accuracy = 1 - len(wrong) / len(labels)
    print(f"{len(wrong)} of {len(labels)} test digits wrong (test accuracy {accuracy * 100:.2f}%)")
    card_accuracy = model.card.get("test_accuracy") if isinstance(model.card, dict) else None
    if isinstance(card_accuracy, (int, float)) and 0 <= card_accuracy <= 1:  # a damaged card may say NaN or 1e999
        print(f"the model card says {round((1 - card_accuracy) * len(labels))} ({card_accuracy * 100:.2f}%)")
    print(f"wrote {args.out / 'mistakes.png'}, {args.out / 'correct.png'}, {args.out / 'mistakes.csv'}")
    return 0
