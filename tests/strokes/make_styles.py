"""Write the style test set: ``tests/strokes/styles/<style>.json``, one file per handwriting style.

    python tests/strokes/make_styles.py          # rewrites every file (deterministic: same bytes each run)

Each style has its own path generator: key points through which the pen moves (smooth
Catmull-Rom pieces joined at sharp corners, arcs for round parts), with the style's
proportions drawn at random for every sample (loop sizes, flag lengths, where bars
cross, how far a loop closes), so no two samples share a template. Then, per sample:
wobble (slow drift plus a little tremor along the path), slant -20..+20 degrees, a
small rotation, a height from 1/5 of the pad to the whole pad, a place anywhere on the
pad, a pen width, and mouse-like sampling (a point every few pixels, denser where the
pen slows down, rounded to whole pad pixels). Size, slant and pen width are spread
evenly over their ranges within each style (stratified), so every style has small and
large, left- and right-leaning, thin and thick samples.

This file is independent of the training code on purpose (it imports nothing from the
project): the test set must not share shapes or code with any training-data synthesizer.
The JSON it writes is committed; rerun only to change the set, and say so in the commit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "styles"
PAD = 280  # pad side in pixels: the page's offscreen ink canvas (web/pad_strokes.js INK_SIZE)
PAD_PEN = 21  # the page's brush: BRUSH 0.075 x 280
PEN_RANGE = (14, 28)  # thin to thick pens (0.05..0.10 of the pad), around the page's 21 px
HEIGHT_RANGE = (56, 266)  # 1/5 of the pad .. the whole pad
MAX_PEN_SHARE = 0.22  # pen width / digit height, at most: smaller digits drawn with the pad's pen are blobs
SLANT_RANGE = (-20.0, 20.0)  # degrees, positive leans right (top to the right)
SAMPLES = 16  # per style
SEED = 20261202

Pts = np.ndarray  # (n, 2) float64 in glyph units: height 1, y down, x from 0 to the glyph's width
Stroke = list  # pieces joined at corners


# ---------- path primitives (glyph units) ----------


def spline(points, n: int = 24) -> Pts:
    """A smooth curve through ``points`` (uniform Catmull-Rom, ends held), ``n`` samples per span."""
    p = np.asarray(points, np.float64)
    if len(p) == 2:
        t = np.linspace(0, 1, n + 1)[:, None]
        return p[0] + t * (p[1] - p[0])
    q = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = [p[:1]]
    t = np.linspace(0, 1, n + 1)[1:, None]
    for i in range(1, len(q) - 2):
        p0, p1, p2, p3 = q[i - 1], q[i], q[i + 1], q[i + 2]
        out.append(
            0.5
            * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
        )
    return np.vstack(out)


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, tilt: float = 0.0) -> Pts:
    """Ellipse arc from angle ``a0`` to ``a1`` degrees (0 = right, 90 = bottom: y is down), tilted ``tilt``."""
    a = np.deg2rad(np.linspace(a0, a1, max(8, int(abs(a1 - a0) / 4))))
    x, y = rx * np.cos(a), ry * np.sin(a)
    c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def join(*pieces: Pts) -> Pts:
    """One stroke from pieces that follow each other (each starts where the last ended, or is bridged)."""
    return np.vstack([pieces[0]] + [p[1:] if np.allclose(p[0], prev[-1]) else p for prev, p in zip(pieces, pieces[1:])])


def U(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


# ---------- the styles: each returns strokes (lists of (n, 2) arrays) in glyph units ----------
# Glyph units: y from 0 (top) to 1 (bottom), x from 0 to about the glyph's width w.


def oval(rng, w: float) -> Pts:
    """A zero's oval, started near the top, usually anticlockwise, closing with a gap or an overlap."""
    start = U(rng, -110, -60)
    turn = 360 + U(rng, -25, 35)
    sign = -1 if rng.random() < 0.8 else 1  # most people go anticlockwise (left from the top)
    p = arc(w / 2, 0.5, w / 2, 0.5, start, start + sign * turn, tilt=U(rng, -12, 12))
    # Egg shapes: one end narrower than the other.
    squeeze = U(rng, -0.2, 0.2)
    p[:, 0] = w / 2 + (p[:, 0] - w / 2) * (1 + squeeze * (p[:, 1] - 0.5))
    return p


def zero_plain(rng):
    return [oval(rng, U(rng, 0.45, 0.85))]


def zero_slashed(rng):
    w = U(rng, 0.45, 0.8)
    out = U(rng, -0.05, 0.15)  # how far the slash reaches past the oval (negative: stays inside)
    a = (w + 2 * out * w, -out)
    b = (-out * w * 1.2 + U(rng, -0.05, 0.05), 1 + out)
    slash = spline([a, ((a[0] + b[0]) / 2 + U(rng, -0.03, 0.03), 0.5), b])
    if rng.random() < 0.3:
        slash = slash[::-1]  # drawn upwards
    return [oval(rng, w), slash]


def one_plain(rng):
    bow = U(rng, -0.04, 0.04)
    top = (U(rng, 0.0, 0.06), 0.0)
    return [spline([top, (0.03 + bow, 0.5), (U(rng, 0.0, 0.06), 1.0)])]


def _flag(rng, length: tuple[float, float], angle: tuple[float, float]) -> Pts:
    """A 1's flag ending at the top of the stem (0.3, 0): ``length`` in glyph heights, ``angle`` below the horizontal."""
    ln, an = U(rng, *length), math.radians(U(rng, *angle))
    start = (0.3 - ln * math.cos(an), ln * math.sin(an))
    mid = ((start[0] + 0.3) / 2 + U(rng, -0.02, 0.02), start[1] / 2 - U(rng, 0.0, 0.04))
    return spline([start, mid, (0.3, 0.0)])


def _stem(rng, x_top: float = 0.3) -> Pts:
    return spline([(x_top, 0.0), (x_top + U(rng, -0.03, 0.03), 0.5), (x_top + U(rng, -0.04, 0.04), 1.0)])


def one_long_flag(rng):
    return [join(_flag(rng, (0.3, 0.55), (22, 45)), _stem(rng))]


def one_flag_foot(rng):
    stem = _stem(rng)
    bottom = stem[-1]
    half = U(rng, 0.15, 0.35)
    y = bottom[1] + U(rng, -0.02, 0.02)
    foot = spline(
        [(bottom[0] - half, y + U(rng, -0.02, 0.02)), (bottom[0], y), (bottom[0] + half, y + U(rng, -0.03, 0.02))]
    )
    if rng.random() < 0.2:
        foot = foot[::-1]
    return [join(_flag(rng, (0.18, 0.38), (20, 45)), stem), foot]


def one_european(rng):
    """The continental 1: a long, steep up-stroke into the stem, like a ^ with a long right leg."""
    return [join(_flag(rng, (0.4, 0.65), (48, 70)), _stem(rng))]


def _seven(rng, w: float, top_y: float = 0.0):
    bar_end = (w, top_y + U(rng, -0.04, 0.06))
    foot = (U(rng, 0.1, 0.5) * w, 1.0)
    bend = U(rng, -0.05, 0.05)
    diag = spline([bar_end, ((bar_end[0] + foot[0]) / 2 + bend, 0.5), foot])
    return bar_end, diag


def seven_plain(rng):
    w = U(rng, 0.5, 0.8)
    bar_end, diag = _seven(rng, w)
    bar = spline([(0.0, U(rng, -0.03, 0.05)), (w / 2, U(rng, -0.03, 0.02)), bar_end])
    return [join(bar, diag)]


def seven_crossbar(rng):
    w = U(rng, 0.5, 0.8)
    bar_end, diag = _seven(rng, w)
    bar = spline([(0.0, U(rng, -0.03, 0.05)), (w / 2, U(rng, -0.03, 0.02)), bar_end])
    y = U(rng, 0.42, 0.6)
    cx = float(np.interp(y, diag[:, 1], diag[:, 0]))
    half = U(rng, 0.15, 0.28)
    cross = spline([(cx - half, y + U(rng, -0.02, 0.03)), (cx + half * U(rng, 0.6, 1.1), y + U(rng, -0.03, 0.02))])
    return [join(bar, diag), cross]


def seven_hooked(rng):
    """A 7 whose top starts with a hook: a short stroke up (or a curl) into the bar."""
    w = U(rng, 0.5, 0.8)
    bar_end, diag = _seven(rng, w, top_y=0.05)
    h = U(rng, 0.12, 0.28)
    if rng.random() < 0.5:  # a straight tick up then the bar (sharp corner)
        hook = spline([(U(rng, -0.02, 0.05), h), (0.0, 0.03)])
        bar = spline([(0.0, 0.03), (w / 2, U(rng, 0.0, 0.05)), bar_end])
        return [join(hook, bar, diag)]
    curl = spline([(U(rng, 0.0, 0.08), h), (-0.02, h * 0.4), (0.08, 0.0), (w / 2, U(rng, 0.0, 0.05)), bar_end])
    return [join(curl, diag)]


def four_open(rng):
    """Two strokes: the left arm and the bar, then the stem; the arm never meets the stem at the top."""
    w = U(rng, 0.55, 0.85)
    stem_x = U(rng, 0.55, 0.75) * w
    bar_y = U(rng, 0.55, 0.72)
    top = (U(rng, 0.0, 0.35) * w, U(rng, 0.0, 0.1))
    corner = (U(rng, -0.02, 0.08) * w, bar_y)
    arm = spline([top, corner])
    bar = spline([corner, (w, bar_y + U(rng, -0.04, 0.02))])
    stem = spline(
        [(stem_x, U(rng, 0.0, 0.25)), (stem_x + U(rng, -0.03, 0.03), 0.6), (stem_x + U(rng, -0.04, 0.04), 1.0)]
    )
    return [join(arm, bar), stem]


def four_closed(rng):
    """One stroke: the bar right to left, up the diagonal to the top of the stem, down the stem (a triangle)."""
    w = U(rng, 0.55, 0.85)
    stem_x = U(rng, 0.6, 0.8) * w
    bar_y = U(rng, 0.58, 0.72)
    right = (w, bar_y + U(rng, -0.03, 0.03))
    left = (U(rng, 0.0, 0.06), bar_y + U(rng, -0.02, 0.04))
    top = (stem_x + U(rng, -0.02, 0.02), 0.0)
    bar = spline([right, left])
    diag = spline([left, ((left[0] + top[0]) / 2 + U(rng, -0.03, 0.02), (left[1] + top[1]) / 2), top])
    stem = spline([top, (stem_x + U(rng, -0.03, 0.03), 0.55), (stem_x + U(rng, -0.05, 0.05), 1.0)])
    return [join(bar, diag, stem)]


def _five_belly(rng, start, w: float) -> Pts:
    x0, y0 = start
    bulge = U(rng, 0.85, 1.05) * w
    bottom = U(rng, 0.95, 1.0)
    return spline(
        [
            start,
            (x0 + 0.35 * w, y0 - U(rng, 0.02, 0.08)),
            (bulge, y0 + U(rng, 0.12, 0.2)),
            (bulge * U(rng, 0.9, 1.0), bottom - U(rng, 0.12, 0.2)),
            (0.5 * w, bottom),
            (U(rng, 0.0, 0.12) * w, bottom - U(rng, 0.04, 0.15)),
        ]
    )


def five_one_stroke(rng):
    """Bar right to left, down, round the belly: the pen never lifts."""
    w = U(rng, 0.5, 0.8)
    x0 = U(rng, 0.05, 0.25) * w
    neck = (x0 - U(rng, 0.0, 0.05), U(rng, 0.38, 0.5))
    bar = spline([(w, U(rng, -0.03, 0.04)), (x0, 0.0)])
    down = spline([(x0, 0.0), neck])
    return [join(bar, down, _five_belly(rng, neck, w))]


def five_two_strokes(rng):
    """Down and round the belly first, then the bar on top as a second stroke."""
    w = U(rng, 0.5, 0.8)
    x0 = U(rng, 0.05, 0.25) * w
    neck = (x0 - U(rng, 0.0, 0.05), U(rng, 0.38, 0.5))
    body = join(spline([(x0, U(rng, 0.0, 0.04)), neck]), _five_belly(rng, neck, w))
    gap = U(rng, -0.03, 0.08) * w  # the bar may start a little right of the stem, or overlap it
    bar = spline([(x0 + gap, U(rng, -0.02, 0.03)), (w * U(rng, 0.85, 1.05), U(rng, -0.06, 0.03))])
    return [body, bar]


def six(rng):
    w = U(rng, 0.5, 0.8)
    ry = U(rng, 0.2, 0.3)
    cy = 1 - ry
    top = (U(rng, 0.6, 0.95) * w, U(rng, 0.0, 0.05))
    left = (U(rng, 0.0, 0.05) * w, cy)
    lead = spline(
        [top, (U(rng, 0.2, 0.45) * w, U(rng, 0.12, 0.22)), (left[0] + U(rng, 0.0, 0.04), cy - U(rng, 0.15, 0.25)), left]
    )
    # From the left (180 degrees) the angle decreases: down to the bottom (90), up the right (0), over
    # the top (-90), back to the left (-180) where the loop closes short of it or runs past it.
    loop = arc(w / 2, cy, w / 2, ry, 180, -180 - U(rng, -50, 20))
    loop += np.asarray(left) - loop[0]
    return [join(lead, loop)]


def _nine_head(rng, w: float):
    ry = U(rng, 0.2, 0.3)
    cx, cy = w / 2, ry
    start = U(rng, -20, 20)
    head = arc(cx, cy, w / 2, ry, start, start - 360 - U(rng, -10, 30), tilt=U(rng, -10, 10))
    return head


def nine_straight(rng):
    w = U(rng, 0.5, 0.8)
    head = _nine_head(rng, w)
    top_x = float(head[:, 0].max()) - U(rng, 0.0, 0.04)
    stem = spline([(top_x, float(head[-1, 1])), (top_x - U(rng, 0.0, 0.1) * w, 1.0)])
    return [join(head, stem)]


def nine_curly(rng):
    """A 9 whose tail curls to the left at the bottom."""
    w = U(rng, 0.5, 0.8)
    head = _nine_head(rng, w)
    x = float(head[:, 0].max()) - U(rng, 0.0, 0.04)
    tail = spline(
        [
            (x, float(head[-1, 1])),
            (x + U(rng, -0.05, 0.03), U(rng, 0.6, 0.72)),
            (x - U(rng, 0.1, 0.25) * w, U(rng, 0.93, 1.0)),
            (U(rng, 0.0, 0.25) * w, U(rng, 0.82, 0.95)),
        ]
    )
    if rng.random() < 0.4:  # a tighter curl that turns back up
        tail = join(tail, spline([tail[-1], (U(rng, -0.05, 0.1) * w, U(rng, 0.7, 0.8))]))
    return [join(head, tail)]


def _figure_eight(rng, w: float, top: float) -> Pts:
    """One-stroke 8: from the top, left round the upper loop, across the middle, round the lower loop, back up."""
    t = np.linspace(U(rng, -0.35, 0.0), 2 * math.pi + U(rng, -0.2, 0.3), 240)
    x = -np.sin(2 * t) * 0.5
    y = -np.cos(t)
    mid = U(rng, -0.15, 0.15)  # where the crossing sits; the loops are sized to meet there
    y = np.where(y < 0, y * (1 + mid) * top, y * (1 - mid))
    widen = np.where(y < 0, U(rng, 0.7, 1.0), 1.0)  # upper loop usually narrower
    x = x * widen * w + w / 2 + U(rng, -0.05, 0.05) * w * np.cos(t)  # a little asymmetry
    y = (y - y.min()) / (y.max() - y.min())
    return np.stack([x, y], axis=1)


def eight_plain(rng):
    return [_figure_eight(rng, U(rng, 0.45, 0.7), U(rng, 0.75, 1.0))]


def eight_wide(rng):
    """A flat, wide 8: wider than tall, or nearly."""
    return [_figure_eight(rng, U(rng, 0.95, 1.5), U(rng, 0.8, 1.0))]


def eight_two_circles(rng):
    """An 8 built from two separate circles, the smaller on top; they touch, overlap or barely miss."""
    w = U(rng, 0.45, 0.75)
    top_r = U(rng, 0.18, 0.24)
    bottom_r = 0.5 - top_r
    gap = U(rng, -0.04, 0.03)
    circles = []
    for cy, ry, rx in ((top_r, top_r, w * U(rng, 0.3, 0.45)), (1 - bottom_r, bottom_r, w / 2)):
        a0 = U(rng, -120, -60)
        sign = -1 if rng.random() < 0.7 else 1
        circles.append(arc(w / 2 + U(rng, -0.04, 0.04), cy, rx, ry, a0, a0 + sign * (360 + U(rng, -15, 25))))
    circles[1][:, 1] += gap
    return circles


def two_plain(rng):
    w = U(rng, 0.55, 0.85)
    corner = (U(rng, 0.0, 0.1) * w, 1.0)
    curve = spline(
        [
            (U(rng, 0.0, 0.12) * w, U(rng, 0.18, 0.32)),
            (U(rng, 0.3, 0.45) * w, U(rng, 0.0, 0.03)),
            (U(rng, 0.8, 1.0) * w, U(rng, 0.12, 0.25)),
            (U(rng, 0.55, 0.8) * w, U(rng, 0.45, 0.6)),
            corner,
        ]
    )
    base = spline([corner, (w * U(rng, 0.9, 1.05), 1.0 + U(rng, -0.05, 0.02))])
    return [join(curve, base)]


def two_looped(rng):
    """A 2 with a small loop at the bottom left, then the base to the right (cursive)."""
    w = U(rng, 0.55, 0.85)
    r = U(rng, 0.1, 0.17)
    lx = U(rng, 0.1, 0.25) * w
    stroke = spline(
        [
            (U(rng, 0.0, 0.12) * w, U(rng, 0.18, 0.32)),
            (U(rng, 0.3, 0.45) * w, U(rng, 0.0, 0.03)),
            (U(rng, 0.8, 1.0) * w, U(rng, 0.12, 0.25)),
            (U(rng, 0.55, 0.75) * w, U(rng, 0.45, 0.6)),
            (lx + r, 1 - 2.2 * r),
            (lx, 1.0),  # bottom of the loop
            (lx - r, 1 - r),
            (lx, 1 - 2 * r),  # top of the loop
            (lx + r, 1 - r),
            (lx + 2 * r, 1.0),
            (w * U(rng, 0.9, 1.05), 1.0 + U(rng, -0.05, 0.02)),
        ]
    )
    return [stroke]


def _lower_bowl(rng, start, w: float) -> Pts:
    return spline(
        [
            start,
            (U(rng, 0.85, 1.0) * w, start[1] + U(rng, 0.12, 0.2)),
            (U(rng, 0.75, 0.95) * w, U(rng, 0.8, 0.9)),
            (0.45 * w, 1.0),
            (U(rng, 0.0, 0.1) * w, U(rng, 0.8, 0.92)),
        ]
    )


def three_round(rng):
    w = U(rng, 0.5, 0.8)
    cusp = (U(rng, 0.3, 0.55) * w, U(rng, 0.42, 0.52))
    upper = spline(
        [
            (U(rng, 0.0, 0.12) * w, U(rng, 0.1, 0.22)),
            (U(rng, 0.35, 0.5) * w, 0.0),
            (U(rng, 0.75, 0.95) * w, U(rng, 0.12, 0.2)),
            (U(rng, 0.65, 0.85) * w, U(rng, 0.33, 0.4)),
            cusp,
        ]
    )
    return [join(upper, _lower_bowl(rng, cusp, w))]


def three_flat_top(rng):
    """A 3 with a flat top bar and a straight diagonal into the lower bowl (like a Z above a bowl)."""
    w = U(rng, 0.5, 0.8)
    right = (U(rng, 0.85, 1.0) * w, U(rng, -0.03, 0.03))
    cusp = (U(rng, 0.2, 0.45) * w, U(rng, 0.38, 0.48))
    bar = spline([(U(rng, 0.0, 0.1) * w, U(rng, -0.02, 0.04)), right])
    diag = spline([right, cusp])
    return [join(bar, diag, _lower_bowl(rng, cusp, w))]


STYLES: dict[str, tuple[int, Callable, str]] = {
    "0-plain": (0, zero_plain, "an oval, closed or nearly"),
    "0-slashed": (0, zero_slashed, "an oval with a slash through it, second stroke"),
    "1-plain": (1, one_plain, "a single down-stroke"),
    "1-long-flag": (1, one_long_flag, "a long, shallow flag into the stem, one stroke"),
    "1-flag-foot": (1, one_flag_foot, "a flag and stem, then a foot (serif base) as a second stroke"),
    "1-european": (1, one_european, "a long steep up-stroke into the stem, like ^ with a long right leg"),
    "2-plain": (2, two_plain, "curve, diagonal, sharp corner, base"),
    "2-looped": (2, two_looped, "a small loop at the bottom left before the base"),
    "3-round": (3, three_round, "two bowls meeting at a cusp"),
    "3-flat-top": (3, three_flat_top, "flat top bar, straight diagonal, lower bowl (Z-ish)"),
    "4-open": (4, four_open, "two strokes: arm and bar, then the stem; open at the top"),
    "4-closed": (4, four_closed, "one stroke: bar right to left, diagonal up, stem down (a triangle)"),
    "5-one-stroke": (5, five_one_stroke, "bar right to left, down, belly: the pen never lifts"),
    "5-two-strokes": (5, five_two_strokes, "down and the belly, then the bar as a second stroke"),
    "6-plain": (6, six, "a curve down from the top into a loop at the bottom"),
    "7-plain": (7, seven_plain, "bar and diagonal"),
    "7-crossbar": (7, seven_crossbar, "bar and diagonal, then a bar across the middle"),
    "7-hooked": (7, seven_hooked, "a hook or tick at the left end of the top bar"),
    "8-plain": (8, eight_plain, "one stroke, upper loop then lower loop"),
    "8-wide": (8, eight_wide, "one stroke, flat and wide"),
    "8-two-circles": (8, eight_two_circles, "two separate circles, the smaller on top"),
    "9-straight": (9, nine_straight, "a loop and a straight stem"),
    "9-curly": (9, nine_curly, "a loop and a tail curling left at the bottom"),
}


# ---------- from glyph units to pad pixels, the way a hand and a mouse would ----------


def wobble(rng, stroke: Pts, amount: float) -> Pts:
    """Slow drift (a few waves along the path) and a little tremor, perpendicular-ish, in glyph heights."""
    seg = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    out = stroke.copy()
    for axis in (0, 1):
        for _ in range(3):
            freq = U(rng, 0.5, 3.0) * 2 * math.pi
            out[:, axis] += amount * U(rng, 0.3, 1.0) * np.sin(freq * s + U(rng, 0, 2 * math.pi)) / 3
        out[:, axis] += rng.normal(0, amount * 0.08, len(s))
    return out


def place(rng, strokes: list[Pts], height: float, slant: float) -> list[Pts]:
    """Slant, rotate a little, scale to ``height`` px (or less if it would not fit) and put anywhere on the pad."""
    sh = math.tan(math.radians(slant))
    a = math.radians(U(rng, -6, 6))
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    moved = []
    for p in strokes:
        q = p.copy()
        q[:, 0] += (0.5 - q[:, 1]) * sh
        moved.append(q @ rot.T)
    allp = np.vstack(moved)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    margin = 16  # keeps the pen inside the pad (the page clamps points to its edges)
    scale = min(height / max(hi[1] - lo[1], 1e-6), (PAD - 2 * margin) / max(hi[0] - lo[0], 1e-6))
    size = (hi - lo) * scale
    room = np.maximum(PAD - 2 * margin - size, 0)
    offset = margin + rng.uniform(0, 1, 2) * room
    return [(q - lo) * scale + offset for q in moved]


def sample_like_a_mouse(rng, stroke: Pts) -> list[list[int]]:
    """Points along the path every few pixels (fewer where the pen is fast, in the middle), whole pixels."""
    seg = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = s[-1]
    step = U(rng, 2.5, 6.0)  # px between pointer events at cruising speed
    marks = [0.0]
    while marks[-1] < total:
        u = marks[-1] / max(total, 1e-9)
        speed = 0.45 + 0.55 * math.sin(math.pi * u)  # slow at the ends of a stroke
        marks.append(marks[-1] + step * speed * U(rng, 0.7, 1.3))
    marks[-1] = total
    xy = np.stack([np.interp(marks, s, stroke[:, 0]), np.interp(marks, s, stroke[:, 1])], axis=1)
    pts = np.clip(np.rint(xy), 0, PAD - 1).astype(int).tolist()
    out = [pts[0]]
    for p in pts[1:]:
        if p != out[-1]:  # the pad drops moves shorter than 0.002 of its side
            out.append(p)
    return out


def stratified(rng, lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` values covering [lo, hi] evenly (one in each of n bins), in random order."""
    return rng.permutation(lo + (hi - lo) * (np.arange(n) + rng.uniform(0, 1, n)) / n)


def make_style(name: str, rng: np.random.Generator) -> dict:
    label, generator, description = STYLES[name]
    # Sizes are spread evenly in log scale: as many small digits as large ones.
    heights = np.exp(stratified(rng, math.log(HEIGHT_RANGE[0]), math.log(HEIGHT_RANGE[1]), SAMPLES))
    slants = stratified(rng, *SLANT_RANGE, SAMPLES)
    pens = stratified(rng, *PEN_RANGE, SAMPLES)
    # Nobody keeps a digit drawn so small that the pen fills it in: at most MAX_PEN_SHARE of the height.
    pens = np.minimum(pens, MAX_PEN_SHARE * heights)
    samples = []
    for i in range(SAMPLES):
        glyph = [wobble(rng, p, U(rng, 0.005, 0.03)) for p in generator(rng)]
        strokes = place(rng, glyph, float(heights[i]), float(slants[i]))
        samples.append(
            {
                "style": name,
                "label": label,
                "pen": round(float(pens[i]), 1),
                "slant": round(float(slants[i]), 1),
                "strokes": [sample_like_a_mouse(rng, p) for p in strokes],
            }
        )
    return {
        "style": name,
        "label": label,
        "description": description,
        "pad": PAD,
        "pad_pen": PAD_PEN,
        "samples": samples,
    }


def dumps(doc: dict) -> str:
    """JSON with one sample per block and one stroke per line: small, diffable, readable."""
    head = {k: v for k, v in doc.items() if k != "samples"}
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines.append('  "samples": [')
    for i, s in enumerate(doc["samples"]):
        meta = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in s.items() if k != "strokes")
        lines.append("    {" + meta + ', "strokes": [')
        strokes = [json.dumps(st, separators=(",", ":")) for st in s["strokes"]]
        lines += ["      " + st + ("," if j < len(strokes) - 1 else "") for j, st in enumerate(strokes)]
        lines.append("    ]}" + ("," if i < len(doc["samples"]) - 1 else ""))
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for k, name in enumerate(STYLES):
        # One generator per style, seeded from the set's seed and the style's place: adding a style
        # at the end leaves the others' samples unchanged.
        rng = np.random.default_rng([SEED, k])
        doc = make_style(name, rng)
        (OUT / f"{name}.json").write_text(dumps(doc))
        assert json.loads((OUT / f"{name}.json").read_text()) == doc
    print(f"wrote {len(STYLES)} styles x {SAMPLES} samples to {OUT}")


if __name__ == "__main__":
    main()
