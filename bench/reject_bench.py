"""Saying "that is not a digit": how many digits a model keeps against how many negatives it rejects.

    python bench/reject_bench.py [--model models/mnist_int8.npz] [--per-letter 100] [--per-kind 400]

Digits are the MNIST **validation** split that training holds out (the stratified 5,000
images of ``engine.train.stratified_split(train_labels, 5000, default_rng(0))``), fed
as MNIST images are. Negatives come from ``digits/negatives.py``, held out from any
training mix: the issue's target letters (A E F H K M N P R W X Y, a c e f h k m n r w
x) and the symbols printed in the held-out fonts, fragments of the validation digits,
Fashion-MNIST's test split, and freshly drawn strokes, shapes and blank photos.

An image is rejected when the model's rejection score (``model.rejection_scores``)
reaches the threshold, or when its mean ink is below the model's ``min_ink`` (as
``predict(images, reject=True)`` does). For every threshold the bench measures the
share of digits kept and of each kind of negative rejected, picks the lowest
threshold that keeps at least 99% of the digits, and says what share of the target
letters it rejects there (the issue's target: at least 90%). The curve goes to
bench/out/reject_curve.png, the figures to bench/out/reject.json.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from common import RESULTS_DIR, framework_threads, machine, machine_line

import engine
from digits import negatives
from digits.mnist import load_mnist
from digits.paths import SHIPPED_MODEL
from digits.reject_threshold import empty, rejected_share, threshold_keeping
from engine.train import stratified_split

KEEP_TARGET = 0.99  # share of validation digits kept
LETTER_TARGET = 0.90  # share of the held-out target letters rejected at KEEP_TARGET
TABLE_KEEPS = (0.999, 0.995, 0.99, 0.98, 0.97, 0.95, 0.90, 0.80)  # the table's rows: thresholds keeping these
LETTERS = "letters (held out)"


def validation_digits(mnist: dict, limit: int | None = None) -> np.ndarray:
    """The training split's 5,000 stratified validation images (uint8), the first ``limit`` of them."""
    _, val = stratified_split(mnist["train_labels"], 5000, np.random.default_rng(0))
    return mnist["train_images"][val[:limit]]


def held_out_sets(mnist_val: np.ndarray, per_letter: int, per_kind: int, seed: int) -> dict[str, np.ndarray]:
    """{name: (N, 28, 28) uint8}: the target letters, then every other kind of negative."""
    rng = np.random.default_rng(seed)
    sets = {LETTERS: negatives.evaluation_letters(rng, per_letter)}
    held = negatives.evaluation_negatives(rng, per_kind, digits=mnist_val)
    for kind in dict.fromkeys(held.kinds.tolist()):
        sets[kind] = held.images[held.kinds == kind]
    return sets


def run(
    model_path=SHIPPED_MODEL,
    mnist: dict | None = None,
    per_letter: int = 100,
    per_kind: int = 400,
    seed: int = 0,
    val_limit: int | None = None,
) -> dict:
    """Scores of the validation digits and of each negative set; the curve and the 99% operating point."""
    mnist = load_mnist() if mnist is None else mnist
    model = engine.load_model(model_path)
    rule = model.reject_rule
    digits = validation_digits(mnist, val_limit)
    sets = held_out_sets(digits, per_letter, per_kind, seed)
    with framework_threads(pytorch=False):  # the engine on its own threads, BLAS on one, as everywhere else
        digit_scores, digit_blank = model.rejection_scores(digits), empty(digits, rule.min_ink)
        scored = {name: (model.rejection_scores(imgs), empty(imgs, rule.min_ink)) for name, imgs in sets.items()}

    everything = np.concatenate([digit_scores, *(s for s, _ in scored.values())])
    grid = np.unique(np.concatenate([np.quantile(everything, np.linspace(0, 1, 401)), [0.0, 1.0, rule.threshold]]))

    def point(threshold: float) -> dict:
        return {
            "threshold": threshold,
            "digits_kept": 1.0 - rejected_share(digit_scores, digit_blank, threshold),
            "rejected": {name: rejected_share(s, b, threshold) for name, (s, b) in scored.items()},
        }

    curve = [point(float(t)) for t in grid] + [point(float(np.nextafter(np.float32(1.0), np.float32(2.0))))]
    rows = []
    for keep in TABLE_KEEPS:
        t = threshold_keeping(digit_scores, digit_blank, keep)
        if t is not None:
            rows.append({"keep_target": keep, **point(t)})
    at_target = next((r for r in rows if r["keep_target"] == KEEP_TARGET), None)
    letter_scores, letter_blank = scored[LETTERS]
    per_letter_rejected = {}
    if at_target is not None:
        t = at_target["threshold"]
        hits = (letter_scores >= t) | letter_blank
        for i, char in enumerate(negatives.EVALUATION_LETTERS):
            per_letter_rejected[char] = float(hits[i * per_letter : (i + 1) * per_letter].mean())
    train_fonts, held_fonts = negatives.font_split()
    return {
        "model": str(model_path),
        "outputs": int(model.logits(np.zeros((1, *model.input_shape), np.float32)).shape[1]),
        "rule": rule.config(),
        "validation_digits": int(len(digits)),
        "sizes": {name: int(len(imgs)) for name, imgs in sets.items()},
        "held_out_fonts": [f.name for f in held_fonts],
        "training_fonts": len(train_fonts),
        "fashion": negatives.fashion_available(),
        "curve": curve,
        "rows": rows,
        "at_rule": point(rule.threshold),
        "at_target": at_target,
        "per_letter_at_target": per_letter_rejected,
        "target_met": bool(at_target and at_target["rejected"][LETTERS] >= LETTER_TARGET),
    }


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}%"


def markdown(result: dict) -> str:
    names = list(result["sizes"])
    head = "| threshold | digits kept | " + " | ".join(names) + " |"
    rule = "|---:|---:|" + "---:|" * len(names)

    def line(r: dict) -> str:
        cells = " | ".join(_pct(r["rejected"][n]) for n in names)
        return f"| {r['threshold']:.4f} | {_pct(r['digits_kept'])} | {cells} |"

    out = [
        f"Model `{result['model']}` ({result['outputs']} outputs; rule: threshold {result['rule']['threshold']}, "
        f"min_ink {result['rule']['min_ink']}). {result['validation_digits']:,} MNIST validation digits; "
        + ", ".join(f"{n} {k:,}" for n, k in result["sizes"].items())
        + f". Held-out fonts: {', '.join(result['held_out_fonts'])} "
        f"({result['training_fonts']} others are for training)."
        + ("" if result["fashion"] else " Fashion-MNIST is not installed, so it is left out."),
        "",
        "Share of each set rejected at the threshold that keeps the given share of digits:",
        "",
        head,
        rule,
        *(line(r) for r in result["rows"]),
        "",
        f"At the model's own rule (threshold {result['rule']['threshold']}):",
        "",
        head,
        rule,
        line(result["at_rule"]),
        "",
    ]
    target = result["at_target"]
    if target is None:
        out.append(f"No threshold keeps {KEEP_TARGET:.0%} of the digits: too many are empty.")
    else:
        letters = target["rejected"][LETTERS]
        out.append(
            f"Keeping >= {KEEP_TARGET:.0%} of validation digits (threshold {target['threshold']:.4f}, "
            f"{_pct(target['digits_kept'])} kept) rejects {_pct(letters)} of the held-out target letters "
            f"(target >= {LETTER_TARGET:.0%}: {'met' if result['target_met'] else 'missed'})."
        )
        per = result["per_letter_at_target"]
        out.append("Per letter: " + ", ".join(f"{c} {_pct(v)}" for c, v in per.items()) + ".")
    return "\n".join(out)


def plot(result: dict, path: Path) -> Path:
    """Digits kept (x) against each set rejected (y), over every threshold; the target corner shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = result["curve"]
    kept = np.array([100 * p["digits_kept"] for p in curve])
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=100)
    colours = plt.get_cmap("tab20").colors
    for i, name in enumerate(result["sizes"]):
        rejected = np.array([100 * p["rejected"][name] for p in curve])
        bold = name == LETTERS
        ax.plot(
            kept,
            rejected,
            lw=2.4 if bold else 1.0,
            color="black" if bold else colours[i % len(colours)],
            label=name,
            zorder=3 if bold else 2,
        )
    ax.axvspan(100 * KEEP_TARGET, 100, ymin=LETTER_TARGET, color="tab:green", alpha=0.15, label="target")
    ax.axvline(100 * KEEP_TARGET, color="grey", lw=0.8, ls="--")
    ax.set_xlim(90, 100.2)
    ax.set_ylim(0, 100)
    ax.set_xlabel("MNIST validation digits kept (%)")
    ax.set_ylabel("negatives rejected (%)")
    ax.set_title(f"Rejection curve: {Path(result['model']).name}", fontsize=10)
    ax.legend(fontsize=6.5, ncol=2, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, default=SHIPPED_MODEL, help="model file (default: the shipped one)")
    p.add_argument("--per-letter", type=int, default=100, help="images of each held-out target letter (100)")
    p.add_argument("--per-kind", type=int, default=400, help="images of each other kind of negative (400)")
    p.add_argument("--seed", type=int, default=0, help="seed of the negatives (0)")
    p.add_argument("--val-limit", type=int, default=None, help="only the first N validation digits (smoke runs)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for the PNG and the JSON (bench/out)")
    args = p.parse_args(argv)
    info = machine()
    print(f"CPU: {info['cpu']}")
    print(machine_line(info))
    result = run(args.model, None, args.per_letter, args.per_kind, args.seed, args.val_limit)
    result["machine"] = info
    print(markdown(result))
    png = plot(result, args.out / "reject_curve.png")
    saved = args.out / "reject.json"
    saved.write_text(json.dumps(result, indent=2))
    print(f"\ncurve: {png}\nfigures: {saved}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
