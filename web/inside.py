"""The "Inside the model" panel's arithmetic: heat maps and feature maps as RGBA bytes.

``engine.explain`` computes what the panel shows (``saliency``: gradient x input toward a
digit; ``feature_maps``: the activations after each conv stage); this module only turns
those arrays into pixels for canvases (ImageData wants RGBA bytes) and says in words what
each stage is. web/main.py owns the page elements and the timer tasks.

Pure NumPy, no browser objects: tests/test_web_inside.py runs it in CPython.
"""

from __future__ import annotations

import numpy as np

CHANNELS_SHOWN = 8  # small multiples per conv stage: its first channels (the same ones on every drawing)

# Diverging colours (ColorBrewer RdBu ends): red pushed toward the digit, blue against it.
TOWARD = np.array([178, 24, 43], np.float32)
AGAINST = np.array([33, 102, 172], np.float32)
PAPER = np.array([255, 255, 255], np.float32)
INK_SHADE = 70.0  # the input's ink, drawn light gray under the heat so the stroke stays visible

# One plain line per stage of the shipped kind of network (conv1..conv5); others get a generic line.
FILTERS_TEXT = (
    "The first layer's {count} filters, each a {size} pattern slid over the image: red weights add where there is ink, "
    "blue ones subtract, so each filter answers to one edge or stroke direction."
)
SCORES_TEXT = (
    "The last layer's raw scores (logits), one per output; the softmax of the digits' scores gives the bars, "
    "and a high 'not a digit' score makes the page refuse the mark."
)
STAGE_TEXT = {
    "conv1": "Edges: each filter lights up where the stroke runs in one direction or has one side.",
    "conv2": "Pairs of edges: corners, line ends and bends of the stroke.",
    "conv3": "After halving the grid: pieces of digits such as loops, bars and crossings.",
    "conv4": "Larger parts and where they sit relative to one another.",
    "conv5": "A coarse grid of whole-digit evidence, which the last layer turns into the ten scores.",
}


def targets(probs: np.ndarray, label: int | None) -> tuple[int, int]:
    """(answer, runner-up) digits for a glyph: its label (or the likeliest digit when it is
    not one) and the likeliest other digit."""
    p = np.asarray(probs, np.float64)[:10]
    answer = int(p.argmax()) if label is None else int(label)
    rest = p.copy()
    rest[answer] = -np.inf
    return answer, int(rest.argmax())


def heat_rgba(heat: np.ndarray, image: np.ndarray) -> bytes:
    """(H, W) saliency and the (H, W) input in [0, 1] -> RGBA bytes: red toward, blue against, over the ink.

    Scaled by the map's largest magnitude, so the strongest pixel is full colour
    whichever sign it has; the square root lifts weak pixels into view. Zero is paper
    white, with the input's ink a light gray under it."""
    heat = np.asarray(heat, np.float32)
    image = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
    if heat.shape != image.shape or heat.ndim != 2:
        raise ValueError(f"heat {heat.shape} and image {image.shape} must be the same 2-D shape")
    top = float(np.abs(heat).max()) if heat.size else 0.0
    t = np.sqrt(np.abs(heat) / top) if top > 0 else np.zeros_like(heat)
    base = PAPER - INK_SHADE * image[..., None]  # (H, W, 3)
    colour = np.where((heat >= 0)[..., None], TOWARD, AGAINST)
    rgb = base + (colour - base) * t[..., None]
    return _rgba(rgb)


def heat_overlay(heat: np.ndarray, image: np.ndarray) -> tuple[bytes, tuple[int, int, int, int]]:
    """The heat map for laying over the drawing: RGBA bytes whose alpha is its strength (no paper, no ink),
    and (x0, y0, x1, y1), the ink's box in the (H, W) input, which is the glyph's box on the pad."""
    heat = np.asarray(heat, np.float32)
    image = np.asarray(image, np.float32)
    if heat.shape != image.shape or heat.ndim != 2:
        raise ValueError(f"heat {heat.shape} and image {image.shape} must be the same 2-D shape")
    top = float(np.abs(heat).max()) if heat.size else 0.0
    t = np.sqrt(np.abs(heat) / top) if top > 0 else np.zeros_like(heat)
    out = np.empty(heat.shape + (4,), np.uint8)
    out[..., :3] = np.where((heat >= 0)[..., None], TOWARD, AGAINST).astype(np.uint8)
    out[..., 3] = np.clip(t * 255.0 + 0.5, 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(image > 0.05)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0) + heat.shape[::-1]
    return out.tobytes(), box


def stage_text(name: str, shape: tuple[int, ...]) -> str:
    """One line for a conv stage: its size and what it responds to."""
    h, w, c = shape
    shown = min(c, CHANNELS_SHOWN)
    what = STAGE_TEXT.get(name, "Patterns built from the stage before.")
    return f"{name} · {h}×{w}, {c} channels (first {shown} shown). {what}"


def channel_rgba(maps: np.ndarray, count: int = CHANNELS_SHOWN) -> list[bytes]:
    """(H, W, C) activations -> RGBA bytes for each of the first ``count`` channels (white on black).

    One scale for the whole stage (its largest activation among the channels shown), so
    a weak channel looks weak beside a strong one; a stage that is all zero stays black."""
    maps = np.asarray(maps, np.float32)
    if maps.ndim != 3:
        raise ValueError(f"feature maps must be (H, W, C), got {maps.shape}")
    shown = maps[..., : min(count, maps.shape[2])]
    top = float(shown.max()) if shown.size else 0.0
    scaled = np.clip(shown / top, 0.0, 1.0) if top > 0 else np.zeros_like(shown)
    out = []
    for c in range(shown.shape[2]):
        g = scaled[..., c, None] * 255.0
        out.append(_rgba(np.broadcast_to(g, g.shape[:2] + (3,))))
    return out


def filter_rgba(filters: np.ndarray) -> list[bytes]:
    """(F, kh, kw) first-layer kernels -> RGBA bytes for each: red where ink raises the filter's output, blue lowers it.

    One scale for all of them (the largest weight), so a weak filter looks weak."""
    filters = np.asarray(filters, np.float32)
    if filters.ndim != 3:
        raise ValueError(f"filters must be (F, kh, kw), got {filters.shape}")
    top = float(np.abs(filters).max()) if filters.size else 0.0
    out = []
    for k in filters:
        t = np.abs(k) / top if top > 0 else np.zeros_like(k)
        colour = np.where((k >= 0)[..., None], TOWARD, AGAINST)
        out.append(_rgba(PAPER + (colour - PAPER) * t[..., None]))
    return out


def score_rows(scores: np.ndarray) -> list[tuple[str, float, str]]:
    """The last layer's activations as (name, bar length in [0, 1], value text): ten digits, then "not a digit"."""
    z = np.asarray(scores, np.float64).reshape(-1)
    if not 10 <= len(z) <= 11:
        raise ValueError(f"expected 10 or 11 output scores, got {len(z)}")
    top = float(np.abs(z).max()) or 1.0
    names = [str(d) for d in range(10)] + ["not a digit"] * (len(z) - 10)
    return [(name, abs(float(v)) / top, f"{float(v):+.1f}") for name, v in zip(names, z)]


def _rgba(rgb: np.ndarray) -> bytes:
    """(H, W, 3) float 0..255 -> opaque RGBA bytes."""
    h, w = rgb.shape[:2]
    out = np.empty((h, w, 4), np.uint8)
    out[..., :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    out[..., 3] = 255
    return out.tobytes()
