"""Stroke files (``tests/strokes/styles/*.json``) and drawing them the way the page's pad does.

A stroke file holds one handwriting style: samples, each a list of strokes, each stroke a
list of ``[x, y]`` pad pixels (``pad`` wide, y down) in the order the pen visited them.
``render`` turns a sample into the grayscale image the page hands to Python: the pad's
offscreen ink canvas (``web/pad_strokes.js``: 280 x 280, white ink on black, round caps and
joins, quadratic curves through the midpoints of successive points) cropped to the ink's
box the way ``Pad.snapshot`` does, one channel as ``web/ink.py`` takes it. While a stroke
is drawn the page paints only its newest piece each time a point arrives (``drawTail``:
the last four points as one curve piece, over what is already there), and the image sent
when the pen lifts is that accumulation, so ``render`` paints it the same way by default.

The anti-aliasing is a pixel's coverage by the pen's disc swept along the path (distance
to the path, clipped to one pixel of soft edge): close to, not byte-equal with, a browser's
canvas. ``engine.preprocess(render(sample))`` is what the model reads.

Shared by tests/test_styles.py and bench/style_bench.py; NumPy and the standard library only.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STROKES_DIR = Path(__file__).resolve().parent / "strokes"
STYLES_DIR = STROKES_DIR / "styles"
INK_SIZE = 280  # web/pad_strokes.js INK_SIZE: the canvas Python reads
BRUSH = 0.075  # web/pad_strokes.js BRUSH: pen diameter as a share of the pad side
PAD_PEN = BRUSH * INK_SIZE  # 21 px
INK_PEN_JS = Path(__file__).resolve().parents[1] / "web" / "ink_pen.js"  # the pen of the model's input


def _ink_pen_constant(name: str) -> float:
    """INK_PEN_RATIO / _MIN / _MAX as web/ink_pen.js defines them (one source of truth)."""
    m = re.search(rf"export const {name} = ([0-9.]+);", INK_PEN_JS.read_text())
    if not m:
        raise RuntimeError(f"{INK_PEN_JS}: no 'export const {name} = <number>;'")
    return float(m.group(1))


@dataclass(frozen=True)
class Sample:
    style: str  # the style's name, e.g. "7-crossbar" (the file's stem)
    label: int  # the digit, 0..9
    strokes: list[list[list[float]]]  # [[x, y], ...] per stroke, pad pixels
    pad: int  # the pad side the points are in
    pen: float  # pen diameter in pad pixels
    index: int  # place in its file


class StrokeFileError(ValueError):
    """A stroke file that is not what the loader expects; the message names the file and the field."""


def _fail(path: Path, where: str, what: str) -> StrokeFileError:
    return StrokeFileError(f"{path}: {where}: {what} (see tests/strokes/README.md for the format)")


def load_style(path: Path) -> list[Sample]:
    """Every sample of one stroke file, checked: labels 0..9, points inside the pad, at least one point a stroke."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise _fail(path, "file", f"cannot read JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("samples"), list):
        raise _fail(path, "top level", 'expected an object with a "samples" list')
    style, label, pad = doc.get("style"), doc.get("label"), doc.get("pad", INK_SIZE)
    if style != path.stem:
        raise _fail(path, "style", f"{style!r} must equal the file name {path.stem!r}")
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label <= 9:
        raise _fail(path, "label", f"{label!r} is not a digit 0..9")
    if not isinstance(pad, (int, float)) or pad <= 0:
        raise _fail(path, "pad", f"{pad!r} is not a positive pad size")
    out = []
    for i, s in enumerate(doc["samples"]):
        where = f"samples[{i}]"
        if not isinstance(s, dict):
            raise _fail(path, where, "not an object")
        if s.get("style", style) != style or s.get("label", label) != label:
            raise _fail(path, where, f"style/label {s.get('style')!r}/{s.get('label')!r} differ from the file's")
        pen = s.get("pen", doc.get("pad_pen", BRUSH * pad))
        if not isinstance(pen, (int, float)) or not 0 < pen < pad:
            raise _fail(path, f"{where}.pen", f"{pen!r} is not a pen width in pad pixels")
        strokes = s.get("strokes")
        if not isinstance(strokes, list) or not strokes:
            raise _fail(path, f"{where}.strokes", "expected a non-empty list of strokes")
        for j, st in enumerate(strokes):
            ok = (
                isinstance(st, list)
                and st
                and all(
                    isinstance(p, list)
                    and len(p) == 2
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= pad for v in p)
                    for p in st
                )
            )
            if not ok:
                raise _fail(path, f"{where}.strokes[{j}]", f"expected [[x, y], ...] with 0 <= x, y <= {pad}")
        out.append(Sample(style, label, strokes, int(pad), float(pen), i))
    return out


def load_styles(folder: Path = STYLES_DIR) -> dict[str, list[Sample]]:
    """{style name: samples} for every ``*.json`` in ``folder``, in name order."""
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise StrokeFileError(f"{folder}: no stroke files; run python tests/strokes/make_styles.py")
    return {f.stem: load_style(f) for f in files}


# ---------- drawing ----------


def _quad(p0: np.ndarray, c: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """A quadratic Bezier flattened to pieces of about 2 px (its points after p0)."""
    n = max(1, math.ceil((np.linalg.norm(c - p0) + np.linalg.norm(p1 - c)) / 2))
    t = np.linspace(0, 1, n + 1)[1:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t**2 * p1


def canvas_path(pts: np.ndarray) -> np.ndarray:
    """The polyline ``Pad.path`` strokes for samples ``pts`` (n, 2): quadratics through the midpoints."""
    if len(pts) == 1:
        return np.vstack([pts[0], pts[0] + [0.01, 0]])  # a dot: lineTo(x + 0.01, y)
    out = [pts[:1]]
    cur = pts[0]
    for i in range(1, len(pts) - 1):
        mid = (pts[i] + pts[i + 1]) / 2
        out.append(_quad(cur, pts[i], mid))
        cur = mid
    out.append(pts[-1:])
    return np.vstack(out)


def _paint(canvas: np.ndarray, poly: np.ndarray, radius: float) -> None:
    """Composite the polyline stroked with a round pen of ``radius`` onto ``canvas`` (float 0..255), source-over."""
    size = canvas.shape[0]
    lo = np.floor(poly.min(axis=0) - radius - 1).astype(int).clip(0, size)
    hi = np.ceil(poly.max(axis=0) + radius + 1).astype(int).clip(0, size)
    if (hi <= lo).any():
        return
    ys, xs = np.mgrid[lo[1] : hi[1], lo[0] : hi[0]].astype(np.float32) + np.float32(0.5)  # pixel centres
    px, py = xs.reshape(-1, 1), ys.reshape(-1, 1)  # (P, 1)
    seg = poly.astype(np.float32)
    d2 = np.full(px.shape[0], np.inf, np.float32)  # squared distance to the path
    chunk = max(1, 200_000 // px.shape[0])  # segments at a time: (P, chunk) temporaries stay small
    for k in range(0, len(seg) - 1, chunk):
        a = seg[k : k + chunk + 1]
        ax, ay = a[:-1, 0], a[:-1, 1]
        dx, dy = a[1:, 0] - ax, a[1:, 1] - ay
        rx, ry = px - ax, py - ay  # (P, S)
        t = np.clip((rx * dx + ry * dy) / np.maximum(dx * dx + dy * dy, np.float32(1e-12)), 0, 1)
        ex, ey = rx - t * dx, ry - t * dy
        np.minimum(d2, (ex * ex + ey * ey).min(axis=1), out=d2)
    dist = np.sqrt(d2).reshape(xs.shape)
    alpha = np.clip(radius - dist + 0.5, 0, 1)
    view = canvas[lo[1] : hi[1], lo[0] : hi[0]]
    # White over what is there, kept in 8 bits after each paint like a canvas.
    view[...] = np.rint(255 * alpha + (1 - alpha) * view)


def ink_canvas(sample: Sample, live: bool = True, pen: float | None = None) -> np.ndarray:
    """The pad's whole INK_SIZE x INK_SIZE ink canvas after drawing ``sample``: (280, 280) uint8, ink bright.

    ``live``: paint as the pad does while the pen moves (each new point re-paints the last four
    as one curve piece, ``drawTail``); otherwise as ``redraw`` does (each stroke's path once).
    ``pen``: the pen diameter in pad pixels (default the sample's).
    """
    scale = INK_SIZE / sample.pad
    radius = (sample.pen if pen is None else pen) * scale / 2
    canvas = np.zeros((INK_SIZE, INK_SIZE), np.float64)
    for stroke in sample.strokes:
        pts = np.asarray(stroke, np.float64) * scale
        if live:
            for n in range(1, len(pts) + 1):
                _paint(canvas, canvas_path(pts[max(0, n - 4) : n]), radius)
        else:
            _paint(canvas, canvas_path(pts), radius)
    return canvas.astype(np.uint8)


def ink_box(sample: Sample, pen: float | None = None) -> tuple[int, int, int, int]:
    """(x, y, w, h) of ``Pad.inkBox``: the points' box on the ink canvas grown by the pen radius + 2 px."""
    pts = np.concatenate([np.asarray(s, np.float64) for s in sample.strokes]) / sample.pad
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    grow = (sample.pen if pen is None else pen) * INK_SIZE / sample.pad / 2 + 2
    x = max(0, math.floor(x0 * INK_SIZE - grow))
    y = max(0, math.floor(y0 * INK_SIZE - grow))
    w = min(INK_SIZE, math.ceil(x1 * INK_SIZE + grow)) - x
    h = min(INK_SIZE, math.ceil(y1 * INK_SIZE + grow)) - y
    return x, y, max(1, w), max(1, h)


def ink_pen(sample: Sample) -> float:
    """The page's pen for the model's input (web/ink_pen.js inkPen), in the sample's pad pixels:
    INK_PEN_RATIO times the tallest glyph (strokes whose x ranges overlap), clamped on the ink canvas."""
    spans = sorted(
        (min(p[0] for p in s), max(p[0] for p in s), min(p[1] for p in s), max(p[1] for p in s)) for s in sample.strokes
    )
    tallest, glyph = 0.0, None
    for x0, x1, y0, y1 in spans:
        if glyph and x0 <= glyph[1]:
            glyph = [glyph[0], max(glyph[1], x1), min(glyph[2], y0), max(glyph[3], y1)]
        else:
            glyph = [x0, x1, y0, y1]
        tallest = max(tallest, glyph[3] - glyph[2])
    scale = INK_SIZE / sample.pad
    pen = _ink_pen_constant("INK_PEN_RATIO") * tallest * scale
    return min(_ink_pen_constant("INK_PEN_MAX"), max(_ink_pen_constant("INK_PEN_MIN"), pen)) / scale


def render(sample: Sample, live: bool = True, pen: float | None = None) -> np.ndarray:
    """What the page gives ``engine.preprocess`` for this drawing: the ink box of the ink canvas, (h, w) uint8."""
    x, y, w, h = ink_box(sample, pen)
    return ink_canvas(sample, live, pen)[y : y + h, x : x + w]


def pen_for(sample: Sample, pen=None) -> float:
    """The pen diameter (pad pixels) ``pen`` gives ``sample``: None for the sample's own, a diameter,
    or a function of the sample (``ink_pen``: the pen the page draws the model's input with)."""
    return sample.pen if pen is None else float(pen(sample)) if callable(pen) else float(pen)


def inputs(samples: list[Sample], live: bool = True, pen=None) -> np.ndarray:
    """(N, 28, 28) float32: every sample rendered and preprocessed, as the model reads it (``pen`` as
    ``pen_for`` takes it)."""
    import engine

    return np.stack([engine.preprocess(render(s, live, pen_for(s, pen))) for s in samples])
