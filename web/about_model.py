"""The "About the model" panel in plain words: what the network is, how it was trained, how well it reads
each digit, and that it runs on this device.

``layer_steps`` turns the architecture stored in the model file into the diagram's steps with their sizes,
``story`` the card into four short paragraphs, ``digit_accuracy`` the per-digit figures; all pure Python,
checked in CPython by tests/test_web_about_model.py. ``render`` builds the panel with the page's
``document`` (passed in: web/ui.py's stand-in in the page, so this module imports nothing of the browser);
every field of the card stays available under "All the details" (web/card.py's rows).
"""

from __future__ import annotations

import card as card_rows
from model_card import ModelCard


def layer_steps(architecture: dict | None) -> list[tuple[str, str]]:
    """[(what the step does, the size it hands on)] from the model file's architecture, input to output."""
    if not isinstance(architecture, dict) or not architecture.get("layers"):
        return []
    h, w, c = (list(architecture.get("input_shape") or [28, 28, 1]) + [1, 1, 1])[:3]
    steps = [("Your digit, scaled to 28×28 grey pixels", f"{h}×{w}")]
    for layer in architecture["layers"]:
        kind = layer.get("type")
        if kind == "Conv2D":
            k, p, s = int(layer.get("kernel", 3)), int(layer.get("padding", 0)), int(layer.get("stride", 1))
            h, w, c = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1, int(layer["out_channels"])
            steps.append((f"{c} filters of {k}×{k} pixels look for strokes, corners and loops", f"{h}×{w}×{c}"))
        elif kind == "MaxPool2D":
            size = int(layer.get("size", 2))
            h, w = h // size, w // size
            steps.append(("Keep the strongest response in each square: half the size", f"{h}×{w}×{c}"))
        elif kind == "Dense":
            n = int(layer["out_features"])
            what = "10 digits and “not a digit”" if n == 11 else f"{n} answers"
            steps.append((f"Weigh all {int(layer['in_features'])} features into a score for each of {what}", str(n)))
    return steps


def _minutes(seconds) -> str:
    return f"{seconds / 60:.0f} minutes" if isinstance(seconds, (int, float)) else ""


def story(card: dict, steps: list[tuple[str, str]]) -> list[str]:
    """Four paragraphs: what it is, how it was trained, how accurate it is, where it runs."""
    c = ModelCard.from_dict(card)
    convs = sum(1 for what, _ in steps if "filters" in what)
    size = f" in a {int(c.file_bytes) / 1024:.0f} KB file" if isinstance(c.file_bytes, (int, float)) else ""
    bits = "8-bit integers" if c.kind == "int8" else "numbers"
    what = (
        f"A small convolutional neural network: {convs} layers of little filters that find the strokes and "
        f"shapes of a digit, then one layer that weighs what they found. It is {c.parameters:,} learned "
        f"numbers, stored as {bits}{size}."
        if isinstance(c.parameters, int)
        else "A small neural network that finds the strokes and shapes of a digit and weighs what it found."
    )
    extra = [f"{c.styled_trained:,} digits in styles MNIST lacks"] if isinstance(c.styled_trained, int) else []
    extra += [f"{c.negatives_trained:,} marks that are not digits"] if isinstance(c.negatives_trained, int) else []
    images = f"{c.train_images:,} images: MNIST's handwritten digits" if isinstance(c.train_images, int) else "MNIST"
    if extra:
        images += ", plus " + " and ".join(extra)
    passes = f", {c.epochs_run} passes over them" if c.epochs_run else ""
    took = f" in {_minutes(c.train_seconds)}" if _minutes(c.train_seconds) else ""
    trained = (
        f"It learned from {images}{passes}{took}, on an ordinary CPU, with this project's own "
        "NumPy code (no deep-learning framework)."
    )
    if isinstance(c.test_accuracy, (int, float)):
        right = round(c.test_accuracy * 10000)
        accurate = (
            f"On MNIST's 10,000 test digits, which it never saw while learning, it reads {right:,} right "
            f"({card_rows.pct(c.test_accuracy, 1)}). Handwriting unlike MNIST's, or a digit drawn very "
            "differently, is harder: that is what “not sure” is for."
        )
    else:
        accurate = "Its test accuracy is not recorded in this model file."
    device = (
        "It runs here, on your device: this page loaded Python and NumPy into the browser and reads your "
        "drawing itself. Nothing you draw is sent anywhere, and it keeps working offline."
    )
    return [what, trained, accurate, device]


def digit_accuracy(card: dict) -> list[tuple[int, float]]:
    """[(digit, accuracy on its MNIST test images)], in digit order (empty when the card has none)."""
    per = ModelCard.from_dict(card).per_class_accuracy
    if not isinstance(per, list):
        return []
    return [(d, float(a)) for d, a in enumerate(per) if isinstance(a, (int, float))]


def render(document, card: dict, architecture: dict | None):
    """The panel's elements: the story, the layer diagram, per-digit accuracy, then all the card's fields."""

    def el(tag, text=None, cls=None):
        e = document.createElement(tag)
        if text is not None:
            e.textContent = text
        if cls:
            e.className = cls
        return e

    steps = layer_steps(architecture)
    paragraphs = story(card, steps)
    parts = [el("p", paragraphs[0])]
    if steps:
        diagram = el("ol", cls="layers")
        diagram.setAttribute("aria-label", "The network's layers, from your digit to the answer")
        for what, size in steps:
            li = el("li")
            li.append(el("span", size, "layer-size"), el("span", what, "layer-what"))
            diagram.append(li)
        parts.append(diagram)
    parts.append(el("p", paragraphs[1]))
    parts.append(el("p", paragraphs[2]))
    per = digit_accuracy(card)
    if per:
        grid = el("ol", cls="digit-accuracy")
        grid.setAttribute("aria-label", "Accuracy on MNIST's test images, per digit")
        low = min(a for _, a in per)
        for d, acc in per:
            li = el("li", cls="lowest" if acc == low else None)
            li.append(el("span", str(d), "da-digit"), el("span", card_rows.pct(acc, 1), "da-value"))
            grid.append(li)
        parts.append(el("p", "Right per digit (the hardest is marked):", "small muted"))
        parts.append(grid)
    parts.append(el("p", paragraphs[3]))
    details = el("details")
    details.append(el("summary", "All the details"), _table(el, card_rows.main_rows(card) + card_rows.more_rows(card)))
    parts.append(details)
    return parts


def _table(el, rows):
    table = el("table")
    for label, text in rows:
        tr = el("tr")
        th = el("th", label)
        th.scope = "row"
        tr.append(th, el("td", text))
        table.append(tr)
    return table
