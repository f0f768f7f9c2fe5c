"""Training digits in the styles MNIST (American census writers) barely has.

Issue 14 part 3: people draw slashed zeros, 1s with a long flag (and a foot), the
European ^-shaped 1, crossed 7s, closed 4s, one-stroke 5s, curly 9s and flat wide 8s,
and a model trained on MNIST alone misreads them. ``styled_digits`` makes 28x28 uint8
digits in those styles, ink bright on dark like MNIST, two ways:

- rendered: each style is a few parametric pen strokes (``_SHAPES``) with random
  proportions, slant (-20..20 degrees), rotation, wobble, stroke width (thin to thick)
  and pen pressure, drawn on a 96x96 pad and reduced by ``engine.preprocess`` (the
  function the page and the command line use), so a synthetic digit looks like what
  the page feeds the model. Every style has a plain counterpart (``zero_plain``,
  ``one_plain``, ...) so the model does not learn "stylized" as a class cue;
- edited: real MNIST training digits (``mnist_images``, ``mnist_labels``: the training
  split only) get a slash through the 0, a crossbar on the 7, a flag or a flag and a
  foot on the 1, drawn at the digit's own stroke width (measured with
  ``engine.preprocess.stroke_width``) on a 4x upsampled copy, then preprocessed again,
  so the style change is learned on real writers' shapes.

``STYLES`` maps each style's name to its label; ``styled_set`` also says which style
each image is (for per-style reports). Styles are balanced: every style gets
``count // len(styles)`` or one more images, shuffled. The labels are therefore not
balanced (six styles are 1s): mix these into MNIST as a share, not as a training set.

Every function draws all its randomness from the ``np.random.Generator`` it is given:
the same seed gives the same images. Application code (NumPy and Pillow); the engine
never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from digits.negatives import _catmull_rom, _finish, _finish_drawing, _pad_canvas, _stroke
from engine.preprocess import stroke_width

SIZE = 28
PAD = 96  # the drawing pad's side in pixels (what ``negatives`` draws on)
MIN_HOLE = 40  # pixels of 28x28 inside a 0 before it is slashed (MNIST's zeros: median ~80)
UPSCALE = 4  # MNIST digits are edited at 4x: 112 px, inside preprocess's 96 px work side after the fit

# A stroke is a list of pieces, each a (K, 2) array of control points (x right, y down, the
# digit about 1 tall around the origin). Pieces are smoothed separately and joined, so the
# joins are corners (the 7's elbow, the 4's angles); a stroke is one pen-down.
Stroke = list[np.ndarray]
Shape = Callable[[np.random.Generator], list[Stroke]]


@dataclass(frozen=True)
class StyledSet:
    """Styled digits and what each one is, index by index."""

    images: np.ndarray  # (N, 28, 28) uint8, ink bright on dark
    labels: np.ndarray  # (N,) int64
    styles: np.ndarray  # (N,) str: the style of each image (a key of STYLES)


def _pts(*xy: float) -> np.ndarray:
    return np.asarray(xy, np.float64).reshape(-1, 2)


def _arc(
    cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 14, egg: float = 0.0
) -> np.ndarray:
    """Points on an ellipse from angle ``start`` to ``stop`` (radians, counter-clockwise on screen, 0 = right).

    ``egg`` > 0 narrows the top and widens the bottom, like most hand-drawn ovals."""
    t = np.linspace(start, stop, n)
    y = cy - ry * np.sin(t)
    x = cx + rx * np.cos(t) * (1.0 - egg * np.sin(t))
    return np.stack([x, y], axis=1)


# ---------- the styles, as pen strokes ----------


def _oval(rng: np.random.Generator) -> tuple[Stroke, float, float]:
    """A 0's oval, one stroke from the top going left (as most people draw it), closing with a small overlap or gap."""
    rx, ry = 0.5 * rng.uniform(0.45, 0.85), 0.5
    start = np.pi / 2 + rng.uniform(-0.5, 0.3)
    stop = start + 2 * np.pi + rng.uniform(-0.25, 0.35)
    if rng.random() < 0.2:  # drawn clockwise
        start, stop = stop, start
    return [_arc(0.0, 0.0, rx, ry, start, stop, 18, rng.uniform(-0.05, 0.15))], rx, ry


def zero_plain(rng: np.random.Generator) -> list[Stroke]:
    return [_oval(rng)[0]]


def zero_slashed(rng: np.random.Generator) -> list[Stroke]:
    """A 0 with a slash through it, / or \\, from inside the oval to well outside it.

    From a slight lean to nearly upright (as in the letter Ø), reaching just past the ring or
    far beyond it at either end: people slash zeros every such way."""
    oval, rx, ry = _oval(rng)
    angle = rng.uniform(40.0, 85.0) * (1 if rng.random() < 0.6 else -1)  # "/" more often than "\"
    a = np.deg2rad(angle)
    d = np.array([np.cos(a), -np.sin(a)])  # towards the upper right for "/"
    reach = 1.0 / np.hypot(d[0] / rx, d[1] / ry)  # the oval's radius in that direction
    lo, hi = reach * rng.uniform(0.5, 1.8), reach * rng.uniform(0.5, 1.8)
    c = rng.uniform(-0.05, 0.05, 2)
    slash = _pts(*(c - lo * d), *(c + hi * d))
    if rng.random() < 0.5:
        slash = slash[::-1]
    return [oval, [slash]]


def _one_stem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(top, bottom, a slightly bowed stem from top to bottom)."""
    top = np.array([rng.uniform(-0.02, 0.02), -0.5])
    bottom = np.array([rng.uniform(-0.06, 0.06), 0.5])
    mid = 0.5 * (top + bottom) + np.array([rng.uniform(-0.04, 0.04), 0.0])
    return top, bottom, np.stack([top, mid, bottom])


def _flag(rng: np.random.Generator, top: np.ndarray, length: tuple[float, float], drop: tuple[float, float]):
    a = np.deg2rad(rng.uniform(*drop))  # below the horizontal, to the left
    end = top + rng.uniform(*length) * np.array([-np.cos(a), np.sin(a)])
    bend = 0.5 * (top + end) + rng.uniform(-0.03, 0.03, 2)
    return np.stack([end, bend, top])


def one_plain(rng: np.random.Generator) -> list[Stroke]:
    """A stroke, sometimes with a tiny hook at the top (MNIST's usual 1)."""
    top, _, stem = _one_stem(rng)
    if rng.random() < 0.35:
        return [[_flag(rng, top, (0.06, 0.14), (20, 60)), stem]]
    return [[stem]]


def one_flag(rng: np.random.Generator) -> list[Stroke]:
    """A 1 with a long flag: up from the left to the top, then down, in one stroke."""
    top, _, stem = _one_stem(rng)
    return [[_flag(rng, top, (0.22, 0.52), (28, 58)), stem]]  # flatter is a 7


def one_flag_foot(rng: np.random.Generator) -> list[Stroke]:
    """A 1 with a flag and a foot (a serif base), the foot a second stroke."""
    top, bottom, stem = _one_stem(rng)
    half = rng.uniform(0.15, 0.32)
    skew = rng.uniform(-0.3, 0.3) * half
    foot = _pts(bottom[0] - half + skew, bottom[1] + rng.uniform(-0.03, 0.03), bottom[0] + half + skew, bottom[1])
    return [[_flag(rng, top, (0.2, 0.4), (15, 45)), stem], [foot if rng.random() < 0.8 else foot[::-1]]]


def one_caret(rng: np.random.Generator) -> list[Stroke]:
    """The European 1, shaped like ^ with a long right leg: a steep upstroke nearly half as long as the stem."""
    top, _, stem = _one_stem(rng)
    return [[_flag(rng, top, (0.4, 0.65), (45, 68)), stem]]


def _seven(rng: np.random.Generator) -> tuple[Stroke, np.ndarray]:
    """A 7's bar and stem in one stroke, and the stem's control points."""
    w = rng.uniform(0.45, 0.8)
    left = np.array([-w / 2, -0.5 + rng.uniform(-0.04, 0.06)])
    corner = np.array([w / 2, -0.5])
    foot = np.array([rng.uniform(-0.2, 0.1) * w, 0.5])
    knee = 0.5 * (corner + foot) + np.array([rng.uniform(-0.06, 0.05), 0.0])
    bar = np.stack([left, 0.5 * (left + corner) + [0.0, rng.uniform(-0.03, 0.03)], corner])
    stroke = [bar, np.stack([corner, knee, foot])]
    if rng.random() < 0.25:  # a small downward tick where the bar starts
        stroke.insert(0, np.stack([left + [0.0, rng.uniform(0.08, 0.18)], left]))
    return stroke, np.stack([corner, knee, foot])


def seven_plain(rng: np.random.Generator) -> list[Stroke]:
    return [_seven(rng)[0]]


def _crossbar(rng: np.random.Generator, stem: np.ndarray, width: float) -> np.ndarray:
    """A short bar across a stem (control points, top to bottom) at 45-65% of the way down."""
    y = rng.uniform(-0.05, 0.15)
    dense = _catmull_rom(stem)
    x = float(np.interp(y, dense[:, 1], dense[:, 0]))
    half = rng.uniform(0.3, 0.5) * width
    shift = rng.uniform(-0.25, 0.25) * half
    tilt = rng.uniform(-0.06, 0.06)
    return _pts(x - half + shift, y + tilt, x + half + shift, y - tilt)


def seven_crossed(rng: np.random.Generator) -> list[Stroke]:
    """A 7 with a bar across its stem (continental style)."""
    stroke, stem = _seven(rng)
    width = float(np.ptp(np.concatenate(stroke)[:, 0]))
    return [stroke, [_crossbar(rng, stem, max(width, 0.4))]]


def _four_parts(rng: np.random.Generator) -> tuple[float, float, float, float]:
    w = rng.uniform(0.55, 0.85)
    stem_x = rng.uniform(0.05, 0.25) * w
    bar_y = rng.uniform(0.0, 0.25)
    return w, stem_x, bar_y, w / 2 + rng.uniform(-0.1, 0.05)


def four_open(rng: np.random.Generator) -> list[Stroke]:
    """The open 4: a left arm down and across, and the stem beside it; the top stays open."""
    w, stem_x, bar_y, right = _four_parts(rng)
    arm_top = np.array([-w / 2 + rng.uniform(0.0, 0.2), -0.5 + rng.uniform(0.0, 0.1)])
    elbow = np.array([-w / 2, bar_y])
    arm = [np.stack([arm_top, elbow]), np.stack([elbow, [right, bar_y - rng.uniform(0.0, 0.05)]])]
    stem = _pts(stem_x, -0.5 + rng.uniform(0.0, 0.15), stem_x - rng.uniform(0.0, 0.05), 0.5)
    return [arm, [stem]]


def four_closed(rng: np.random.Generator) -> list[Stroke]:
    """The closed 4: a diagonal from the stem's top down to the left, across, and the stem (one or two strokes)."""
    w, stem_x, bar_y, right = _four_parts(rng)
    apex = np.array([stem_x, -0.5])
    elbow = np.array([-w / 2, bar_y])
    bar_end = np.array([right, bar_y - rng.uniform(0.0, 0.04)])
    foot = np.array([stem_x - rng.uniform(0.0, 0.05), 0.5])
    triangle: Stroke = [np.stack([apex, elbow]), np.stack([elbow, bar_end])]  # down-left, then across
    stem: Stroke = [np.stack([apex, foot])]
    return [triangle, stem] if rng.random() < 0.6 else [stem, triangle]


def _five_belly(rng: np.random.Generator, w: float, neck: np.ndarray) -> np.ndarray:
    """A 5's belly from the bottom of its neck: round to the right and back to the bottom left."""
    r = rng.uniform(0.28, 0.36)
    cy = 0.5 - r
    right = w / 2
    return np.stack(
        [
            neck,
            [0.0, cy - r * rng.uniform(0.85, 1.05)],
            [right * 0.8, cy - r * 0.6],
            [right, cy + r * 0.1],
            [right * 0.6, cy + r * 0.85],
            [-0.05, 0.5],
            [-w / 2 + rng.uniform(0.0, 0.1), 0.5 - rng.uniform(0.05, 0.2) * r],
        ]
    )


def five_plain(rng: np.random.Generator) -> list[Stroke]:
    """The usual two-stroke 5: neck and belly, then the top bar."""
    w = rng.uniform(0.55, 0.8)
    top = np.array([-w / 2 + rng.uniform(0.0, 0.1), -0.5])
    neck = np.array([-w / 2 + rng.uniform(0.0, 0.08), rng.uniform(-0.15, 0.0)])
    body = [np.stack([top, neck]), _five_belly(rng, w, neck)]
    bar = _pts(top[0] + rng.uniform(-0.03, 0.03), top[1], w / 2 + rng.uniform(-0.05, 0.05), -0.5 - rng.uniform(0, 0.05))
    return [body, [bar]]


def five_one_stroke(rng: np.random.Generator) -> list[Stroke]:
    """The 5 drawn without lifting the pen: the top bar right to left, then down the neck into the belly."""
    w = rng.uniform(0.55, 0.8)
    start = np.array([w / 2 + rng.uniform(-0.05, 0.05), -0.5 - rng.uniform(0.0, 0.05)])
    top = np.array([-w / 2 + rng.uniform(0.0, 0.1), -0.5])
    neck = np.array([-w / 2 + rng.uniform(0.0, 0.08), rng.uniform(-0.15, 0.0)])
    if rng.random() < 0.4:  # the corner rounded as the pen turns
        corner = [np.stack([start, 0.5 * (start + top), top + [0.04, 0.0], top + [0.0, 0.06], neck])]
    else:
        corner = [np.stack([start, top]), np.stack([top, neck])]
    return [[*corner, _five_belly(rng, w, neck)]]


def _nine_loop(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A 9's head: an oval drawn from its right side, up over the top and round, and where the stem starts."""
    rx, ry = rng.uniform(0.2, 0.33), rng.uniform(0.18, 0.26)
    cy = -0.5 + ry
    start = rng.uniform(-0.5, 0.3)
    loop = _arc(0.0, cy, rx, ry, start, 2 * np.pi + rng.uniform(-0.15, 0.1), 14)
    return loop, np.array([rx * rng.uniform(0.85, 1.0), cy + rng.uniform(0.0, 0.5) * ry])


def nine_plain(rng: np.random.Generator) -> list[Stroke]:
    """A loop and a straight (or gently bowed) stem."""
    loop, joint = _nine_loop(rng)
    foot = np.array([joint[0] + rng.uniform(-0.2, 0.05), 0.5])
    return [[loop, np.stack([joint, 0.5 * (joint + foot) + [rng.uniform(-0.03, 0.03), 0.0], foot])]]


def nine_curly(rng: np.random.Generator) -> list[Stroke]:
    """A 9 whose stem curls to the left at the bottom (a hook, sometimes nearly a loop)."""
    loop, joint = _nine_loop(rng)
    x = joint[0] + rng.uniform(-0.1, 0.05)
    curl = rng.uniform(0.15, 0.35)
    tail = [
        joint,
        [x, 0.2],
        [x - 0.3 * curl, 0.45],
        [x - curl, 0.5],
        [x - curl * rng.uniform(1.1, 1.5), 0.5 - curl * 0.6],
    ]
    # (no curl back towards the stem: closed under the loop, it reads as an 8)
    return [[loop, np.asarray(tail, np.float64)]]


def _eight(rng: np.random.Generator, top_w: float, bottom_w: float, top_share: float) -> list[Stroke]:
    """A figure eight in one stroke: x = width * sin(2t), y = -cos(t), each loop with its own width and height."""
    t0 = rng.uniform(-0.35, 0.35)
    t = np.linspace(t0, t0 + 2 * np.pi + rng.uniform(-0.1, 0.3), 25)
    up = np.cos(t) > 0
    x = np.sin(2 * t) * np.where(up, top_w, bottom_w) / 2 * rng.choice([-1.0, 1.0])
    raw = -np.cos(t)
    y = np.where(up, raw * top_share, raw * (1 - top_share)) + (top_share - 0.5)
    return [[np.stack([x, y], axis=1)]]


def eight_plain(rng: np.random.Generator) -> list[Stroke]:
    w = rng.uniform(0.45, 0.7)
    return _eight(rng, w * rng.uniform(0.7, 1.0), w, rng.uniform(0.4, 0.5))


def eight_flat(rng: np.random.Generator) -> list[Stroke]:
    """A flat, wide 8: two squat loops about as wide as the digit is tall."""
    w = rng.uniform(0.85, 1.3)
    return _eight(rng, w * rng.uniform(0.75, 1.0), w, rng.uniform(0.42, 0.52))


_SHAPES: dict[str, tuple[int, Shape]] = {
    "zero_plain": (0, zero_plain),
    "zero_slashed": (0, zero_slashed),
    "one_plain": (1, one_plain),
    "one_flag": (1, one_flag),
    "one_flag_foot": (1, one_flag_foot),
    "one_caret": (1, one_caret),
    "four_open": (4, four_open),
    "four_closed": (4, four_closed),
    "five_plain": (5, five_plain),
    "five_one_stroke": (5, five_one_stroke),
    "seven_plain": (7, seven_plain),
    "seven_crossed": (7, seven_crossed),
    "eight_plain": (8, eight_plain),
    "eight_flat": (8, eight_flat),
    "nine_plain": (9, nine_plain),
    "nine_curly": (9, nine_curly),
}
# MNIST training digits of one label, edited.
_EDITS_LABEL = {"mnist_zero_slashed": 0, "mnist_seven_crossed": 7, "mnist_one_flag": 1, "mnist_one_flag_foot": 1}
RENDERED = tuple(_SHAPES)
EDITED = tuple(_EDITS_LABEL)
STYLES: dict[str, int] = {**{k: v[0] for k, v in _SHAPES.items()}, **_EDITS_LABEL}


# ---------- drawing a shape like a hand would ----------


def _wobble(rng: np.random.Generator, amount: float) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth displacement field (three random sinusoids per axis): the hand's unsteadiness."""
    k = rng.uniform(1.5, 5.0, (2, 3))
    phase = rng.uniform(0, 2 * np.pi, (2, 3))
    direction = rng.uniform(0, 2 * np.pi, (2, 3))
    amp = amount * rng.uniform(0.3, 1.0, (2, 3)) / 3

    def field(p: np.ndarray) -> np.ndarray:
        out = p.copy()
        for axis in range(2):
            along = p[:, 0:1] * np.cos(direction[axis]) + p[:, 1:2] * np.sin(direction[axis])  # (K, 1)
            out[:, axis] += (amp[axis] * np.sin(k[axis] * 2 * np.pi * along + phase[axis])).sum(axis=1)
        return out

    return field


def _dense(stroke: Stroke) -> np.ndarray:
    """A stroke's pieces smoothed and joined into one polyline."""
    parts = [_catmull_rom(piece, 5 if len(piece) > 3 else 10) for piece in stroke]
    return np.concatenate([parts[0], *(p[1:] for p in parts[1:])])


def _resample(points: np.ndarray, spacing: float) -> np.ndarray:
    """The polyline ``points`` (K, 2) with points about ``spacing`` apart along it (ends kept, corners cut a little)."""
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    n = max(2, int(np.ceil(along[-1] / spacing)) + 1)
    at = np.linspace(0.0, along[-1], n)
    return np.stack([np.interp(at, along, points[:, 0]), np.interp(at, along, points[:, 1])], axis=1)


def _pressure_stroke(draw: ImageDraw.ImageDraw, points: np.ndarray, widths: np.ndarray) -> None:
    """A pen stroke whose width varies along it: segments of their own width with round joints."""
    for i in range(len(points) - 1):
        (x0, y0), (x1, y1) = points[i], points[i + 1]
        w = 0.5 * (widths[i] + widths[i + 1])
        draw.line([(float(x0), float(y0)), (float(x1), float(y1))], fill=255, width=max(1, int(round(w))))
    for (x, y), w in zip(points, widths):
        r = max(w, 1.0) / 2
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)


def _pressure(rng: np.random.Generator, n: int, base: float) -> np.ndarray:
    """Widths along a stroke of ``n`` points: a slow swell, and often a taper where the pen lands or lifts."""
    s = np.linspace(0.0, 1.0, n)
    w = 1.0 + rng.uniform(0.1, 0.35) * np.sin(2 * np.pi * rng.uniform(0.5, 1.5) * s + rng.uniform(0, 2 * np.pi))
    if rng.random() < 0.5:
        w *= np.clip(0.4 + s / rng.uniform(0.05, 0.25), None, 1.0)  # landing
    if rng.random() < 0.5:
        w *= np.clip(0.4 + (1 - s) / rng.uniform(0.05, 0.25), None, 1.0)  # lifting
    return base * w


def render(rng: np.random.Generator, strokes: list[Stroke]) -> np.ndarray:
    """Strokes in digit units -> a (28, 28) uint8 digit: random aspect, slant, rotation, wobble, width and pressure."""
    lines = [_dense(s) for s in strokes]
    slant = np.tan(np.deg2rad(rng.uniform(-20.0, 20.0)))
    a = np.deg2rad(rng.uniform(-6.0, 6.0))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    aspect = np.diag([rng.uniform(0.85, 1.15), 1.0])
    shear = np.array([[1.0, -slant], [0.0, 1.0]])  # y is down: the top leans right for a positive slant
    m = rot @ shear @ aspect
    field = _wobble(rng, rng.uniform(0.0, 0.05))
    lines = [field(p @ m.T) for p in lines]
    every = np.concatenate(lines)
    lo, hi = every.min(axis=0), every.max(axis=0)
    scale = rng.uniform(50.0, 72.0) / max(float((hi - lo).max()), 1e-6)
    offset = PAD / 2 - scale * (lo + hi) / 2 + rng.uniform(-4, 4, 2)
    width = float(np.exp(rng.uniform(np.log(2.0), np.log(12.0))))  # thin to thick, log-uniform
    img, draw = _pad_canvas(PAD)
    varied = rng.random() < 0.6
    for line in lines:
        pts = _resample(line * scale + offset, max(1.5, 0.5 * width))  # fewer, even points: Pillow calls are the cost
        if varied:
            _pressure_stroke(draw, pts, _pressure(rng, len(pts), width))
        else:
            _stroke(draw, pts, max(1, int(round(width))))
    if rng.random() < 0.4:  # a pixel-level wobble as well (it costs as much as the drawing)
        return _finish_drawing(img, rng)
    return _finish(np.asarray(img, np.float32) / 255.0)


# ---------- editing real MNIST digits ----------


def _ink_points(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, weight) of a digit's ink pixels (uint8 28x28)."""
    ys, xs = np.nonzero(img > 50)
    return xs.astype(np.float64), ys.astype(np.float64), img[ys, xs].astype(np.float64)


def _slash(rng: np.random.Generator, img: np.ndarray) -> list[np.ndarray]:
    x, y, w = _ink_points(img)
    c = np.array([np.average(x, weights=w), np.average(y, weights=w)])
    # A diagonal, / (35-80 degrees) or \ (100-145), that crosses the 0's long axis (MNIST zeros
    # lean) at 25 degrees or more: along the axis it would be lost in the ring.
    cov = np.cov(np.stack([x - c[0], c[1] - y]), aweights=w)
    major = np.degrees(np.arctan2(*np.linalg.eigh(cov)[1][::-1, 1])) % 180.0  # y up, 0..180
    first = 0 if rng.random() < 0.5 else 1
    angle = 0.0
    for lo_deg in ((35.0, 100.0)[first], (35.0, 100.0)[1 - first]):
        for _ in range(8):
            angle = rng.uniform(lo_deg, lo_deg + 45.0)
            if abs((angle - major + 90.0) % 180.0 - 90.0) >= 25.0:
                break
        else:
            continue
        break
    c = c + rng.uniform(-0.7, 0.7, 2)
    a = np.deg2rad(angle)
    d = np.array([np.cos(a), -np.sin(a)])
    along = (x - c[0]) * d[0] + (y - c[1]) * d[1]
    lo, hi = -along.min() * rng.uniform(0.55, 1.7), along.max() * rng.uniform(0.55, 1.7)
    return [np.stack([c - lo * d, c + hi * d])]


def _stem_line(img: np.ndarray) -> tuple[float, float]:
    """x = a * y + b, least squares over the ink (a 1's axis)."""
    x, y, w = _ink_points(img)
    a, b = np.polyfit(y, x, 1, w=np.sqrt(w))
    return float(a), float(b)


def _one_flag(rng: np.random.Generator, img: np.ndarray, foot: bool) -> list[np.ndarray]:
    x, y, _ = _ink_points(img)
    a, b = _stem_line(img)
    y_top, y_bottom = y.min(), y.max()
    height = y_bottom - y_top
    top = np.array([a * y_top + b, y_top])
    # The flag leaves at an angle to the stem's own direction, but never flatter than 28 degrees:
    # a long flat flag on a leaning stem is a 7.
    drop = np.deg2rad(np.clip(rng.uniform(30.0, 55.0) + np.degrees(np.arctan(a)), 28.0, 70.0))
    end = top + rng.uniform(0.2, 0.48) * height * np.array([-np.cos(drop), np.sin(drop)])
    added = [np.stack([end, 0.5 * (top + end) + rng.uniform(-0.4, 0.4, 2), top])]
    if foot:
        bottom = np.array([a * y_bottom + b, y_bottom])
        half = rng.uniform(0.15, 0.3) * height
        skew = rng.uniform(-0.3, 0.3) * half
        added.append(np.stack([bottom + [-half + skew, 0.0], bottom + [half + skew, rng.uniform(-0.5, 0.5)]]))
    return added


def _seven_bar(rng: np.random.Generator, img: np.ndarray) -> list[np.ndarray]:
    x, y, _ = _ink_points(img)
    y_top, y_bottom = y.min(), y.max()
    row = int(round(y_top + rng.uniform(0.45, 0.62) * (y_bottom - y_top)))
    for r in (row, row - 1, row + 1, row - 2, row + 2):
        cols = np.flatnonzero(img[r] > 50)
        if len(cols):
            break
    # the stem is the leftmost run of ink on that row (a 7 with a curled stem may cross it twice)
    run_end = cols[0] + int(np.argmax(np.diff(np.append(cols, 10_000)) > 1))
    stem_x = 0.5 * (cols[0] + run_end)
    half = rng.uniform(0.3, 0.5) * max(float(np.ptp(x)), 0.5 * float(y_bottom - y_top))
    shift = rng.uniform(-0.25, 0.25) * half
    tilt = rng.uniform(-0.6, 0.6)
    return [np.array([[stem_x - half + shift, r + tilt], [stem_x + half + shift, r - tilt]])]


_EDITS: dict[str, Callable[[np.random.Generator, np.ndarray], list[np.ndarray]]] = {
    "mnist_zero_slashed": _slash,
    "mnist_seven_crossed": _seven_bar,
    "mnist_one_flag": lambda rng, img: _one_flag(rng, img, foot=False),
    "mnist_one_flag_foot": lambda rng, img: _one_flag(rng, img, foot=True),
}


def edit_mnist(rng: np.random.Generator, image: np.ndarray, style: str) -> np.ndarray:
    """One MNIST digit (28, 28) uint8 with the stroke ``style`` adds (a slash, a crossbar, a flag, a foot).

    The strokes (in the digit's pixel units) are drawn at the digit's own stroke width on a
    4x copy with room around it, and the result goes through ``engine.preprocess`` again,
    so a slash that reaches out of the box is fitted back into 20x20 as MNIST would."""
    img = np.asarray(image, np.uint8)
    added = _EDITS[style](rng, img)
    width = stroke_width(img.astype(np.float32) / 255.0) * rng.uniform(0.7, 1.0) * UPSCALE
    margin = SIZE * UPSCALE // 2
    side = SIZE * UPSCALE + 2 * margin
    big = Image.new("L", (side, side), 0)
    big.paste(Image.fromarray(img).resize((SIZE * UPSCALE,) * 2, Image.Resampling.BILINEAR), (margin, margin))
    draw = ImageDraw.Draw(big)
    for seg in added:
        pts = (seg + 0.5) * UPSCALE + margin  # pixel centres
        _stroke(draw, _catmull_rom(pts) if len(pts) > 2 else pts, max(2, int(round(width))))
    return _finish(np.asarray(big, np.float32) / 255.0)


# ---------- the training set ----------


def _hole_area(images: np.ndarray) -> np.ndarray:
    """(N,) pixels of background that ink encloses (a 0's hole): not reachable from the border."""
    background = images <= 50
    reach = np.zeros_like(background)
    reach[:, [0, -1], :] = background[:, [0, -1], :]
    reach[:, :, [0, -1]] = background[:, :, [0, -1]]
    while True:
        grown = reach.copy()
        grown[:, 1:] |= reach[:, :-1]
        grown[:, :-1] |= reach[:, 1:]
        grown[:, :, 1:] |= reach[:, :, :-1]
        grown[:, :, :-1] |= reach[:, :, 1:]
        grown &= background
        if np.array_equal(grown, reach):
            return (background & ~reach).sum(axis=(1, 2))
        reach = grown


def _editable(style: str, images: np.ndarray, of_label: np.ndarray) -> np.ndarray:
    """Indices of the digits ``style`` may edit: its label, with ink; for a slash, a 0 with a hole to cross.

    A thick 0 with a pinhole (common in MNIST) turns into a blob when slashed."""
    pool = np.flatnonzero(of_label & (images.reshape(len(images), -1).max(axis=1) > 50))
    if style == "mnist_zero_slashed" and len(pool):
        pool = pool[_hole_area(images[pool]) >= MIN_HOLE]
    return pool


def _check_mnist(images: np.ndarray | None, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    if images is None and labels is None:
        return None
    if images is None or labels is None:
        raise ValueError("pass both mnist_images and mnist_labels (the training split), or neither")
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (SIZE, SIZE) or images.dtype != np.uint8:
        raise ValueError(f"mnist_images must be (N, 28, 28) uint8, got {images.shape} {images.dtype}")
    if labels.shape != (len(images),):
        raise ValueError(f"mnist_labels must be ({len(images)},), one per image, got {labels.shape}")
    return images, labels.astype(np.int64)


def styled_set(
    rng: np.random.Generator, count: int, mnist_images: np.ndarray | None = None, mnist_labels: np.ndarray | None = None
) -> StyledSet:
    """``count`` styled digits with their labels and styles, styles balanced (within one), shuffled.

    Without MNIST digits only the rendered styles (``RENDERED``) are made; with them also
    the edited ones (``EDITED``) whose label occurs among them."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be a whole number >= 0, got {count!r}")
    mnist = _check_mnist(mnist_images, mnist_labels)
    styles = list(RENDERED)
    pools: dict[str, np.ndarray] = {}
    if mnist is not None:
        for name, label in _EDITS_LABEL.items():
            pool = _editable(name, mnist[0], mnist[1] == label)
            if len(pool):
                pools[name] = pool
                styles.append(name)
    count = int(count)
    which = rng.permutation(np.arange(count) % len(styles))
    images = np.zeros((count, SIZE, SIZE), np.uint8)
    for i, s in enumerate(which):
        name = styles[s]
        if name in _SHAPES:
            images[i] = render(rng, _SHAPES[name][1](rng))
        else:
            assert mnist is not None
            pool = pools[name]
            images[i] = edit_mnist(rng, mnist[0][pool[int(rng.integers(len(pool)))]], name)
    names = np.array(styles, dtype=str)[which] if count else np.zeros(0, str)
    labels = np.array([STYLES[n] for n in names], np.int64)
    return StyledSet(images, labels, names)


def styled_digits(
    rng: np.random.Generator, count: int, mnist_images: np.ndarray | None = None, mnist_labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` styled digits for training: (images (count, 28, 28) uint8, labels (count,) int64).

    Styles (``STYLES``) balanced and shuffled; pass MNIST *training* digits and labels to
    add the edited styles (see ``styled_set``)."""
    out = styled_set(rng, count, mnist_images, mnist_labels)
    return out.images, out.labels


__all__ = ["EDITED", "RENDERED", "STYLES", "StyledSet", "edit_mnist", "render", "styled_digits", "styled_set"]
