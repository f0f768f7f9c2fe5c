"""Things that are not digits, drawn the way the page would feed them to the model.

Issue 14 asks the recognizer to say "that is not a digit", trained or calibrated on
negatives "that are real, not only noise". This module makes them: 28x28 uint8
images, ink bright on dark like MNIST, each rendered at a larger size and passed
through ``engine.preprocess`` (photos through ``engine.ink_on_dark`` first), so a
negative looks exactly like what the pad or a photo becomes before the model sees it.

Kinds (``KINDS``):

- ``letters``, ``symbols``: glyphs printed with Pillow from the TrueType/OpenType fonts
  found under /usr/share/fonts (DejaVu, Liberation, ...), each with a random font,
  size, stroke width, rotation (+-15 degrees), shear and a small elastic-like jitter;
- ``scribbles`` (smooth curves with several turns), ``dots``, ``lines`` and ``crosses``
  at random angles, ``loops`` (circles with a tail that makes no digit), ``blobs``
  (filled irregular shapes), ``texture`` (sparse specks), ``smudge`` (a blank photo
  with a faint smudge) and ``shadow`` (a blank photo of paper with a shadow at one
  edge); the last two often come out empty, which is what such photos become;
- ``fragments``: 30-60% of an MNIST digit's ink, cut off by a straight line at a
  random angle (the digits are an argument: pass training digits, never validation);
- ``pairs``: two MNIST digits pressed together until they touch (``number_layout``): what
  the number reader must cut rather than read as one. Not in ``DEFAULT_MIX``: a model trained
  with them (15% of 11,500 negatives) read 4-digit numbers with 20% of neighbours touching
  83.4% right against 81.6% (validation digits), but refused 80.4% of the held-out letters
  against 86.4% (it cut an M into "14", an N into "111"), with MNIST unchanged (99.47%);
- ``fashion``: Fashion-MNIST clothes and shoes, from Debian's ``dataset-fashion-mnist``
  (``scripts/install_fashion_mnist.sh``, run by ``make install``).

Held-out splits, so the issue's target is measured on shapes the model never saw:
the fonts are split once, deterministically and by family, into training and held-out
fonts (``font_split``); ``negatives`` uses the training fonts, ``evaluation_letters``
and ``evaluation_negatives`` the held-out ones (and Fashion-MNIST's test split). The
target letters (``EVALUATION_LETTERS``, the issue's "letters of shapes that cannot pass
for a digit") can be left out of a training mix with ``exclude_letters``. The other
letters, and the symbols that are a stroke like a 1 (``DIGIT_LOOKALIKES``), are left
out unless asked for: an "O" taught as "not a digit" teaches the model to reject zeros.

Every function takes an ``np.random.Generator`` and draws all its randomness from it,
so the same seed gives the same images (with the same fonts, Pillow and FreeType).
Application code: CPython with NumPy and Pillow; the engine never imports it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import engine

from .number_layout import compose, ink_crops

SIZE = 28
UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
LETTERS = UPPER + LOWER
SYMBOLS = "+-=×÷%&@#$?!*/\\()[]<>"
# The held-out target: "letters of shapes that cannot pass for a digit".
EVALUATION_LETTERS = "AEFHKMNPRWXY" + "acefhkmnrwx"
# Every other letter can pass for a digit in somebody's handwriting (O o D Q for 0, I l i j
# for 1, Z z for 2, S s for 5, b G for 6, T for 7, B for 8, g q for 9, y u for 4, ...), and
# these symbols are one stroke, like a 1.
DIGIT_LOOKALIKES = "".join(c for c in LETTERS if c not in EVALUATION_LETTERS) + "/\\()[]!"

FONT_ROOTS = ("/usr/share/fonts",)
FONT_PATTERNS = ("*.ttf", "*.otf", "*.TTF", "*.OTF")
HELD_OUT_SHARE = 0.25  # of the font families, at least one

FASHION_DIR = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
FASHION_FILES = {"train": "train-images-idx3-ubyte", "test": "t10k-images-idx3-ubyte"}
FASHION_INSTALL = (
    "apt-get install -y dataset-fashion-mnist  (or: bash scripts/install_fashion_mnist.sh; make install runs it)"
)

# Shares of a training mix; they need not sum to 1.
DEFAULT_MIX: dict[str, float] = {
    "letters": 0.30,
    "symbols": 0.10,
    "scribbles": 0.10,
    "fragments": 0.10,
    "fashion": 0.10,
    "loops": 0.06,
    "lines": 0.05,
    "crosses": 0.05,
    "dots": 0.03,
    "blobs": 0.03,
    "texture": 0.03,
    "smudge": 0.025,
    "shadow": 0.025,
}
EMPTYISH = ("smudge", "shadow")  # kinds that may come out with no ink at all (as such photos do)


class NoFontsError(FileNotFoundError):
    """No usable TrueType/OpenType font was found."""


class FashionMnistMissing(FileNotFoundError):
    """Debian's dataset-fashion-mnist is not installed."""


@dataclass(frozen=True)
class NegativeSet:
    """A mix of negatives and what each one is, index by index."""

    images: np.ndarray  # (N, 28, 28) uint8, ink bright on dark
    kinds: np.ndarray  # (N,) str: the kind of each image ("letters", "scribbles", ...)
    glyphs: np.ndarray  # (N,) str: the character of a letter or symbol, "" for other kinds
    fonts: np.ndarray  # (N,) str: the font file's name for a glyph, "" for other kinds


# ---------- fonts ----------


def _glob_fonts(roots: Sequence[str | Path]) -> list[Path]:
    found: set[Path] = set()
    for root in roots:
        for pattern in FONT_PATTERNS:
            found.update(p.resolve() for p in Path(root).rglob(pattern) if p.is_file())
    return sorted(found, key=lambda p: (p.name, str(p)))


@functools.lru_cache(maxsize=8)
def _usable_fonts(roots: tuple[str, ...]) -> tuple[Path, ...]:
    usable = []
    for path in _glob_fonts(roots):
        try:
            _font(str(path), 40)
        except OSError:  # not a font FreeType can read
            continue
        if any(_has_glyph(str(path), c) for c in "AaEe"):
            usable.append(path)
    return tuple(usable)


def font_paths(roots: Sequence[str | Path] = FONT_ROOTS) -> list[Path]:
    """Every font under ``roots`` that FreeType reads and that has Latin letters, sorted by file name."""
    fonts = list(_usable_fonts(tuple(str(r) for r in roots)))
    if not fonts:
        raise NoFontsError(
            f"no TrueType/OpenType font with Latin letters under {', '.join(map(str, roots))}; "
            "install some, for example: apt-get install fonts-dejavu-core fonts-liberation"
        )
    return fonts


def font_family(path: str | Path) -> str:
    """The family a font file belongs to: "DejaVuSansCondensed-BoldOblique.ttf" -> "DejaVuSans".

    Width variants (Condensed, Narrow) share their family's letter shapes, so they stay
    on the same side of the split."""
    stem = Path(path).stem.split("-")[0]
    return re.sub(r"(Semi|Extra|Ultra)?(Condensed|Narrow|Expanded|Wide)$", "", stem) or stem


def _rank(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def font_split(fonts: Sequence[str | Path] | None = None) -> tuple[list[Path], list[Path]]:
    """(training fonts, held-out fonts): whole families held out, chosen by a hash of the family name.

    The same fonts always split the same way, whatever order they come in; a family
    keeps its side when other fonts are installed. A quarter of the families (at
    least one) is held out; with a single family, a quarter of its files."""
    paths = sorted((Path(p) for p in (font_paths() if fonts is None else fonts)), key=lambda p: (p.name, str(p)))
    if len(paths) < 2:
        raise NoFontsError(f"splitting fonts into training and held-out needs at least 2 fonts, got {len(paths)}")
    families = sorted({font_family(p) for p in paths}, key=_rank)
    if len(families) >= 2:
        held = set(families[: max(1, round(len(families) * HELD_OUT_SHARE))])
        held_out = [p for p in paths if font_family(p) in held]
    else:
        names = sorted(paths, key=lambda p: _rank(p.name))
        held_out = sorted(names[: max(1, round(len(names) * HELD_OUT_SHARE))], key=lambda p: (p.name, str(p)))
    train = [p for p in paths if p not in held_out]
    return train, held_out


def training_fonts() -> list[Path]:
    return font_split()[0]


def held_out_fonts() -> list[Path]:
    return font_split()[1]


@functools.lru_cache(maxsize=4096)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _mask(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


@functools.lru_cache(maxsize=65536)
def _has_glyph(path: str, char: str) -> bool:
    """Whether the font draws ``char`` itself rather than its "missing glyph" box."""
    font = _font(path, 40)
    drawn = _mask(font, char)
    return drawn[0][0] > 0 and drawn != _mask(font, "\U0010fffd")


# ---------- rendering helpers ----------


def _to_uint8(x28: np.ndarray) -> np.ndarray:
    return (np.clip(x28, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _finish(big: np.ndarray) -> np.ndarray:
    """A rendered picture (ink bright on dark, float 0..1) -> what the page feeds the model."""
    return _to_uint8(engine.preprocess(big))


def _finish_photo(photo: np.ndarray) -> np.ndarray:
    """A photo (dark ink on light paper, float 0..1) -> what the page feeds the model."""
    return _to_uint8(engine.preprocess(engine.ink_on_dark(photo)))


def _affine(img: Image.Image, angle_deg: float, shear: float) -> Image.Image:
    """Rotate by ``angle_deg`` and shear horizontally by ``shear`` about the centre, same canvas."""
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    forward = rot @ np.array([[1.0, shear], [0.0, 1.0]])
    inv = np.linalg.inv(forward)
    cx, cy = img.width / 2, img.height / 2
    offset = np.array([cx, cy]) - inv @ np.array([cx, cy])
    coeffs = (inv[0, 0], inv[0, 1], offset[0], inv[1, 0], inv[1, 1], offset[1])
    return img.transform(img.size, Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR)


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], amount: float, grid: int = 4) -> np.ndarray:
    """A smooth random field of size ``shape``: a coarse normal grid, bicubically upsampled."""
    coarse = rng.normal(0.0, amount, (grid, grid)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse, mode="F").resize(shape[::-1], Image.Resampling.BICUBIC), np.float32)


def _jitter(img: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Elastic-like distortion: each pixel sampled from a smoothly displaced spot (bilinear)."""
    h, w = img.shape
    dy, dx = _smooth_field(rng, (h, w), amount), _smooth_field(rng, (h, w), amount)
    ys, xs = np.indices((h, w), dtype=np.float32)
    y = np.clip(ys + dy, 0, h - 1.001)
    x = np.clip(xs + dx, 0, w - 1.001)
    y0, x0 = y.astype(np.int64), x.astype(np.int64)
    fy, fx = y - y0, x - x0
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def _pad_canvas(side: int = 96) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("L", (side, side), 0)
    return img, ImageDraw.Draw(img)


def _stroke(draw: ImageDraw.ImageDraw, points: np.ndarray, width: int) -> None:
    """A pen stroke through ``points`` (K, 2) as (x, y): a polyline with round joints and caps."""
    pts = [(float(x), float(y)) for x, y in points]
    draw.line(pts, fill=255, width=width, joint="curve")
    r = width / 2
    for x, y in (pts[0], pts[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)


def _catmull_rom(points: np.ndarray, per_segment: int = 12) -> np.ndarray:
    """A smooth curve through ``points`` (K, 2), K >= 2."""
    p = np.concatenate([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(
            0.5
            * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
        )
    out.append(points[-1:])
    return np.concatenate(out)


def _finish_drawing(img: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """A pad drawing -> 28x28, after a slight hand-like wobble."""
    arr = np.asarray(img, np.float32) / 255.0
    return _finish(_jitter(arr, rng, rng.uniform(0.0, 1.5)))


# ---------- glyphs ----------


def _check_chars(chars: str) -> str:
    if not chars:
        raise ValueError("no characters to draw glyphs from")
    return chars


def _chars_to_draw(kind: str, exclude_letters: Iterable[str], lookalikes: bool) -> str:
    """``glyph_chars``, or a ValueError that says what to change when nothing is left."""
    exclude = "".join(exclude_letters)
    chars = glyph_chars(kind, exclude, lookalikes)
    if not chars:
        raise ValueError(
            f"no {kind} left to draw: exclude_letters={exclude!r} removes every one"
            + ("" if lookalikes else " that is not a digit lookalike (DIGIT_LOOKALIKES)")
            + f"; drop {kind!r} from kinds, exclude fewer, or pass lookalikes=True"
        )
    return chars


def glyph_chars(
    kind: str = "letters", exclude_letters: Iterable[str] = (), lookalikes: bool = False, only: str | None = None
) -> str:
    """The characters a ``letters`` or ``symbols`` draw picks from.

    ``exclude_letters``: characters to leave out (for example ``EVALUATION_LETTERS``);
    ``lookalikes``: keep ``DIGIT_LOOKALIKES`` (left out by default); ``only``: start from
    these characters instead of the kind's full set."""
    if kind not in ("letters", "symbols"):
        raise ValueError(f"glyph kind must be 'letters' or 'symbols', got {kind!r}")
    pool = only if only is not None else (LETTERS if kind == "letters" else SYMBOLS)
    excluded = set("".join(exclude_letters))
    return "".join(c for c in dict.fromkeys(pool) if c not in excluded and (lookalikes or c not in DIGIT_LOOKALIKES))


def render_glyph(rng: np.random.Generator, char: str, font: str | Path) -> np.ndarray:
    """One printed character as the page would see it: (28, 28) uint8.

    Random size (36-96 px), stroke width (0 to size/16), rotation (+-15 degrees), shear
    (+-0.3) and an elastic-like jitter of up to 2% of the size."""
    size = int(rng.integers(36, 97))
    stroke = int(rng.integers(0, size // 16 + 1))
    face = _font(str(font), size)
    side = 2 * size + 4 * stroke
    img = Image.new("L", (side, side), 0)
    ImageDraw.Draw(img).text(
        (side / 2, side / 2), char, font=face, fill=255, anchor="mm", stroke_width=stroke, stroke_fill=255
    )
    img = _affine(img, rng.uniform(-15.0, 15.0), rng.uniform(-0.3, 0.3))
    arr = np.asarray(img, np.float32) / 255.0
    return _finish(_jitter(arr, rng, rng.uniform(0.0, 0.02) * size))


def _fonts_for(char: str, fonts: Sequence[Path]) -> list[Path]:
    return [f for f in fonts if _has_glyph(str(f), char)]


def glyphs(
    rng: np.random.Generator, count: int, chars: str, fonts: Sequence[str | Path] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` printed glyphs drawn uniformly from ``chars``, each in a random font that has it.

    Returns (images (N, 28, 28) uint8, characters (N,) str, font file names (N,) str).
    ``fonts`` defaults to the training fonts."""
    _check_chars(chars)
    pool = [Path(f) for f in (training_fonts() if fonts is None else fonts)]
    if not pool:
        raise NoFontsError("no fonts to draw glyphs with")
    picked = [chars[i] for i in rng.integers(0, len(chars), count)] if count else []
    images = np.zeros((count, SIZE, SIZE), np.uint8)
    names = []
    for i, char in enumerate(picked):
        usable = _fonts_for(char, pool)
        if not usable:
            raise NoFontsError(f"none of the {len(pool)} fonts has the character {char!r}")
        font = usable[int(rng.integers(len(usable)))]
        images[i] = render_glyph(rng, char, font)
        names.append(font.name)
    return images, np.array(picked, dtype=str).reshape(count), np.array(names, dtype=str).reshape(count)


def letters(
    rng: np.random.Generator,
    count: int,
    exclude_letters: Iterable[str] = (),
    fonts: Sequence[str | Path] | None = None,
    lookalikes: bool = False,
) -> np.ndarray:
    """``count`` printed letters (A-Z, a-z minus ``exclude_letters`` and, unless asked, the lookalikes)."""
    return glyphs(rng, count, _chars_to_draw("letters", exclude_letters, lookalikes), fonts)[0]


def symbols(
    rng: np.random.Generator,
    count: int,
    exclude: Iterable[str] = (),
    fonts: Sequence[str | Path] | None = None,
    lookalikes: bool = False,
) -> np.ndarray:
    """``count`` printed symbols (+ - = × ÷ % & @ # $ ? * < > ..., and with ``lookalikes`` / \\ ( ) [ ] !)."""
    return glyphs(rng, count, _chars_to_draw("symbols", exclude, lookalikes), fonts)[0]


# ---------- strokes and shapes drawn on the pad ----------


def scribble(rng: np.random.Generator) -> np.ndarray:
    """A smooth curve through 6-10 random points: several turns, long for its size."""
    img, draw = _pad_canvas()
    while True:
        points = rng.uniform(14, 82, (int(rng.integers(6, 11)), 2))
        steps = np.diff(points, axis=0)
        length = np.hypot(*steps.T).sum()
        if length > 2.5 * np.ptp(points, axis=0).max():
            break
    _stroke(draw, _catmull_rom(points), int(rng.integers(3, 10)))
    return _finish_drawing(img, rng)


def dot(rng: np.random.Generator) -> np.ndarray:
    """A single small blob: a tap of the pen (preprocess blows it up to the digit box)."""
    img, draw = _pad_canvas()
    r = rng.uniform(1.5, 7.0)
    rx, ry = r * rng.uniform(0.7, 1.3), r * rng.uniform(0.7, 1.3)
    x, y = rng.uniform(20, 76, 2)
    draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=255)
    return _finish_drawing(img, rng)


def _segment(angle_deg: float, length: float, center: np.ndarray) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    half = 0.5 * length * np.array([np.cos(a), -np.sin(a)])
    return np.stack([center - half, center + half])


def line(rng: np.random.Generator) -> np.ndarray:
    """A straight line at least 40 degrees away from vertical (closer to vertical it is a 1)."""
    img, draw = _pad_canvas()
    angle = rng.uniform(-50.0, 50.0)
    _stroke(draw, _segment(angle, rng.uniform(30, 80), rng.uniform(40, 56, 2)), int(rng.integers(3, 10)))
    return _finish_drawing(img, rng)


def cross(rng: np.random.Generator) -> np.ndarray:
    """Two straight lines crossing near their middles at 60-120 degrees: + and x at any angle."""
    img, draw = _pad_canvas()
    first = rng.uniform(0.0, 180.0)
    second = first + rng.uniform(60.0, 120.0)
    width = int(rng.integers(3, 10))
    center = rng.uniform(42, 54, 2)
    for angle in (first, second):
        length = rng.uniform(35, 75)
        a = np.deg2rad(angle)
        shift = rng.uniform(-0.15, 0.15) * length * np.array([np.cos(a), -np.sin(a)])
        _stroke(draw, _segment(angle, length, center + shift), width)
    return _finish_drawing(img, rng)


# Where a loop's tail may leave it (degrees, counter-clockwise from "right", y up), and how far
# from that: sideways. A tail down the right side makes a 9 or an a, one up the left side a 6, one
# straight down a 9 or a q, and one up to the right or down to the left the end of a slashed
# zero's slash: those directions are never drawn.
TAIL_DIRECTIONS = ((0.0, 25.0), (180.0, 25.0))


def loop_with_tail(rng: np.random.Generator) -> np.ndarray:
    """A circle or ellipse with a tail leaving it in a direction no digit has."""
    img, draw = _pad_canvas()
    width = int(rng.integers(3, 9))
    r = rng.uniform(12, 22)
    rx, ry = r * rng.uniform(0.8, 1.2), r * rng.uniform(0.8, 1.2)
    cx, cy = rng.uniform(44, 52, 2)
    t = np.linspace(0, 2 * np.pi, 64)
    ring = np.stack([cx + rx * np.cos(t), cy - ry * np.sin(t)], axis=1)
    _stroke(draw, ring, width)
    base, spread = TAIL_DIRECTIONS[int(rng.integers(len(TAIL_DIRECTIONS)))]
    direction = np.deg2rad(base + rng.uniform(-spread, spread))
    start = np.array([cx + rx * np.cos(direction), cy - ry * np.sin(direction)])
    heading = np.array([np.cos(direction), -np.sin(direction)])
    length = r * rng.uniform(0.7, 1.5)
    bend = rng.uniform(-0.25, 0.25) * length * np.array([-heading[1], heading[0]])
    tail = np.stack([start, start + 0.5 * length * heading + bend, start + length * heading])
    _stroke(draw, _catmull_rom(tail), width)
    return _finish_drawing(img, rng)


def blob(rng: np.random.Generator) -> np.ndarray:
    """A filled irregular shape: a radius that wobbles with a few harmonics of the angle."""
    img, draw = _pad_canvas()
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    radius = np.ones_like(t)
    for k in (2, 3, 4, 5):
        radius += rng.uniform(0.0, 0.35 / k * 2) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    radius = rng.uniform(12, 30) * np.clip(radius, 0.3, None)
    stretch = rng.uniform(0.6, 1.0)
    cx, cy = rng.uniform(44, 52, 2)
    poly = [(float(cx + r * np.cos(a)), float(cy - stretch * r * np.sin(a))) for r, a in zip(radius, t)]
    draw.polygon(poly, fill=255)
    return _finish_drawing(img, rng)


def texture(rng: np.random.Generator) -> np.ndarray:
    """Sparse specks over the pad (0.2-2% of it): dust, grain, a noisy sensor."""
    side = 96
    density = rng.uniform(0.002, 0.02)
    specks = ((rng.random((side, side)) < density) * rng.uniform(0.3, 1.0, (side, side))).astype(np.float32)
    soft = np.asarray(
        Image.fromarray(specks, mode="F").resize((side // 2, side // 2), Image.Resampling.BOX), np.float32
    )
    big = np.asarray(Image.fromarray(soft, mode="F").resize((side, side), Image.Resampling.BILINEAR), np.float32)
    mixed = np.maximum(specks, big)
    return _finish(mixed / max(float(mixed.max()), 1e-6))


def _paper(rng: np.random.Generator, side: int) -> np.ndarray:
    """A blank photo of paper: a bright level, a smooth lighting gradient and sensor noise."""
    level = rng.uniform(0.6, 0.95)
    ys, xs = np.indices((side, side), dtype=np.float32) / side - 0.5
    a = rng.uniform(0, 2 * np.pi)
    gradient = rng.uniform(0.0, 0.2) * (np.cos(a) * xs + np.sin(a) * ys)
    lighting = _smooth_field(rng, (side, side), rng.uniform(0.0, 0.03), grid=3)
    noise = rng.normal(0.0, rng.uniform(0.003, 0.02), (side, side))
    return (level + gradient + lighting + noise).astype(np.float32)


def smudge(rng: np.random.Generator) -> np.ndarray:
    """An almost empty photo of paper with one faint, soft smudge (often nothing survives)."""
    side = 128
    paper = _paper(rng, side)
    ys, xs = np.indices((side, side), dtype=np.float32)
    cy, cx = rng.uniform(0.2, 0.8, 2) * side
    sy, sx = rng.uniform(0.02, 0.1, 2) * side
    spot = np.exp(-0.5 * (((ys - cy) / sy) ** 2 + ((xs - cx) / sx) ** 2))
    photo = paper - rng.uniform(0.03, 0.25) * spot
    return _finish_photo(np.clip(photo, 0.0, 1.0))


def shadow(rng: np.random.Generator) -> np.ndarray:
    """A blank photo of paper: smooth lighting with a faint dark shadow along one edge."""
    side = 128
    paper = _paper(rng, side)
    ys, xs = np.indices((side, side), dtype=np.float32) / (side - 1)
    edge = [xs, 1 - xs, ys, 1 - ys][int(rng.integers(4))]  # 0 at the shadowed edge
    tilt = rng.uniform(-0.1, 0.1) * ([ys, xs][int(rng.integers(2))] - 0.5)
    width = rng.uniform(0.03, 0.2)
    falloff = 0.5 - 0.5 * np.tanh((edge + tilt - width) / (2 * rng.uniform(0.01, 0.05)))  # a logistic step
    photo = paper - rng.uniform(0.05, 0.3) * falloff
    return _finish_photo(np.clip(photo, 0.0, 1.0))


# ---------- pieces of real data ----------


def fragments(rng: np.random.Generator, count: int, digits: np.ndarray) -> np.ndarray:
    """``count`` pieces of random MNIST digits: 30-60% of a digit's ink, cut by a straight line.

    ``digits``: (N, 28, 28) uint8 MNIST images to cut (training digits for a training
    set, so the validation digits stay unseen)."""
    digits = np.asarray(digits)
    if digits.ndim != 3 or len(digits) == 0:
        raise ValueError(f"fragments need MNIST digits shaped (N, 28, 28), got {digits.shape}")
    out = np.zeros((count, SIZE, SIZE), np.uint8)
    ys, xs = np.indices(digits.shape[1:], dtype=np.float32)
    for i in range(count):
        while True:
            img = digits[int(rng.integers(len(digits)))].astype(np.float32) / 255.0
            if img.sum() > 0:
                break
        a = rng.uniform(0, 2 * np.pi)
        along = np.cos(a) * xs + np.sin(a) * ys
        order = np.argsort(along, axis=None, kind="stable")
        mass = np.cumsum(img.ravel()[order])
        keep = rng.uniform(0.3, 0.6)
        cut = int(np.searchsorted(mass, keep * mass[-1]))
        mask = np.zeros(img.size, bool)
        mask[order[: cut + 1]] = True
        out[i] = _finish(img * mask.reshape(img.shape))
    return out


def pairs(rng: np.random.Generator, count: int, digits: np.ndarray) -> np.ndarray:
    """``count`` pairs of random MNIST digits pressed together until their ink touches, as one glyph.

    What ``engine.read_number`` must cut in two, so the model must not read it as one digit:
    without these it read two touching digits as a 0, 4 or 8, sure of it, and the reader kept
    them whole. Only whole pairs: a pair cut through its second digit too often looks like the
    first digit alone (taught as "not a digit", real digits would be refused). ``digits``: MNIST
    training images, as for ``fragments``."""
    digits = np.asarray(digits)
    if digits.ndim != 3 or len(digits) == 0:
        raise ValueError(f"pairs need MNIST digits shaped (N, 28, 28), got {digits.shape}")
    out = np.zeros((count, SIZE, SIZE), np.uint8)
    for i in range(count):
        while True:
            chosen = digits[rng.integers(len(digits), size=2)]
            if chosen.reshape(2, -1).max(axis=1).min() > 0:
                break
        out[i] = _finish(compose(rng, ink_crops(chosen), touch=1.0, height=rng.uniform(24, 64)).image)
    return out


@functools.lru_cache(maxsize=2)
def fashion_mnist(split: str = "train") -> np.ndarray:
    """Fashion-MNIST images (N, 28, 28) uint8 of ``split`` ("train": 60,000, "test": 10,000)."""
    if split not in FASHION_FILES:
        raise ValueError(f"Fashion-MNIST split must be 'train' or 'test', got {split!r}")
    stem = FASHION_DIR / FASHION_FILES[split]
    for path in (stem.with_name(stem.name + ".gz"), stem):
        if path.is_file():
            images = engine.read_idx(path)
            images.flags.writeable = False  # cached: shared by every call
            return images
    raise FashionMnistMissing(f"Fashion-MNIST is not in {FASHION_DIR}; install Debian's package: {FASHION_INSTALL}")


def fashion_available() -> bool:
    try:
        fashion_mnist("train")
        fashion_mnist("test")
    except FashionMnistMissing:
        return False
    return True


def fashion(rng: np.random.Generator, count: int, split: str = "train") -> np.ndarray:
    """``count`` random Fashion-MNIST items of ``split``, through preprocess like a drawing."""
    items = fashion_mnist(split)
    out = np.zeros((count, SIZE, SIZE), np.uint8)
    for i, j in enumerate(rng.integers(0, len(items), count)):
        out[i] = _finish(items[int(j)])
    return out


# ---------- mixing ----------

DRAWN: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "scribbles": scribble,
    "dots": dot,
    "lines": line,
    "crosses": cross,
    "loops": loop_with_tail,
    "blobs": blob,
    "texture": texture,
    "smudge": smudge,
    "shadow": shadow,
}
KINDS = ("letters", "symbols", *DRAWN, "fragments", "pairs", "fashion")


def drawn(rng: np.random.Generator, kind: str, count: int) -> np.ndarray:
    """``count`` images of one of the drawn kinds (``DRAWN``: scribbles, dots, lines, ...)."""
    if kind not in DRAWN:
        raise ValueError(f"unknown drawn kind {kind!r}; choose from {', '.join(DRAWN)}")
    out = np.zeros((count, SIZE, SIZE), np.uint8)
    for i in range(count):
        out[i] = DRAWN[kind](rng)
    return out


def _shares(kinds: Mapping[str, float] | Sequence[str]) -> dict[str, float]:
    shares = dict(kinds) if isinstance(kinds, Mapping) else dict.fromkeys(kinds, 1.0)
    unknown = [k for k in shares if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown negative kind(s) {unknown}; choose from {', '.join(KINDS)}")
    if not shares or any(not np.isfinite(v) or v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
        raise ValueError(f"kinds needs non-negative shares with a positive sum, got {shares}")
    return shares


def counts(kinds: Mapping[str, float] | Sequence[str], count: int) -> dict[str, int]:
    """How many images of each kind a mix of ``count`` holds: the shares, rounded by largest remainder."""
    shares = _shares(kinds)
    total = sum(shares.values())
    exact = {k: count * v / total for k, v in shares.items()}
    out = {k: int(np.floor(v)) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], KINDS.index(k)))[: count - sum(out.values())]:
        out[k] += 1
    return out


def _kind_set(
    rng: np.random.Generator,
    kind: str,
    count: int,
    *,
    exclude_letters: Iterable[str],
    fonts: Sequence[str | Path] | None,
    digits: np.ndarray | None,
    split: str,
    lookalikes: bool,
) -> NegativeSet:
    empty = np.full(count, "", dtype="<U1")
    if kind in ("letters", "symbols"):
        images, chars, names = glyphs(rng, count, _chars_to_draw(kind, exclude_letters, lookalikes), fonts)
        return NegativeSet(images, np.full(count, kind).astype(str), chars, names)
    if kind in ("fragments", "pairs"):
        if digits is None:
            raise ValueError(f"the {kind!r} kind needs MNIST digits: pass digits=<training images (N, 28, 28) uint8>")
        images = (fragments if kind == "fragments" else pairs)(rng, count, digits)
    elif kind == "fashion":
        images = fashion(rng, count, split)
    else:
        images = drawn(rng, kind, count)
    return NegativeSet(images, np.full(count, kind).astype(str), empty, empty)


def _concat(parts: list[NegativeSet], order: np.ndarray | None) -> NegativeSet:
    images = np.concatenate([p.images for p in parts]) if parts else np.zeros((0, SIZE, SIZE), np.uint8)
    fields = [np.concatenate([getattr(p, f) for p in parts]).astype(str) for f in ("kinds", "glyphs", "fonts")]
    if not parts:
        fields = [np.zeros(0, str)] * 3
    if order is not None:
        images, fields = images[order], [f[order] for f in fields]
    return NegativeSet(images, *fields)


def negative_set(
    rng: np.random.Generator,
    count: int,
    kinds: Mapping[str, float] | Sequence[str] = DEFAULT_MIX,
    exclude_letters: Iterable[str] = (),
    fonts: Sequence[str | Path] | None = None,
    digits: np.ndarray | None = None,
    split: str = "train",
    lookalikes: bool = False,
) -> NegativeSet:
    """``count`` negatives mixed in the shares ``kinds`` gives, shuffled, with what each one is.

    ``kinds``: {kind: share} (``DEFAULT_MIX``) or a list of kinds in equal shares.
    ``exclude_letters``: characters never drawn (e.g. ``EVALUATION_LETTERS``, for a model
    whose letter target must be unseen shapes). ``fonts``: the fonts glyphs use (default
    the training fonts; never the held-out ones for training). ``digits``: MNIST training
    images for ``fragments``. ``split``: Fashion-MNIST's "train" or "test" images.
    ``lookalikes``: also draw the characters in ``DIGIT_LOOKALIKES``."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be a whole number >= 0, got {count!r}")
    exclude = "".join(exclude_letters)
    parts = [
        _kind_set(rng, kind, n, exclude_letters=exclude, fonts=fonts, digits=digits, split=split, lookalikes=lookalikes)
        for kind, n in counts(kinds, int(count)).items()
        if n > 0
    ]
    return _concat(parts, rng.permutation(int(count)))


def negatives(
    rng: np.random.Generator,
    count: int,
    kinds: Mapping[str, float] | Sequence[str] = DEFAULT_MIX,
    exclude_letters: Iterable[str] = (),
    fonts: Sequence[str | Path] | None = None,
    digits: np.ndarray | None = None,
    split: str = "train",
    lookalikes: bool = False,
) -> np.ndarray:
    """(count, 28, 28) uint8 negatives for training: ``negative_set(...).images`` (same arguments)."""
    return negative_set(rng, count, kinds, exclude_letters, fonts, digits, split, lookalikes).images


def evaluation_letters(
    rng: np.random.Generator,
    per_letter: int,
    fonts: Sequence[str | Path] | None = None,
    letters: str = EVALUATION_LETTERS,
) -> np.ndarray:
    """The issue's held-out target: each of ``letters`` ``per_letter`` times, in held-out fonts.

    (len(letters) * per_letter, 28, 28) uint8; image i is ``letters[i // per_letter]``.
    ``letters`` defaults to ``EVALUATION_LETTERS``; a subset measures shapes a training
    mix left out with ``exclude_letters`` (a split by letter shape as well as by font)."""
    if isinstance(per_letter, bool) or not isinstance(per_letter, (int, np.integer)) or per_letter < 0:
        raise ValueError(f"per_letter must be a whole number >= 0, got {per_letter!r}")
    pool = [Path(f) for f in (held_out_fonts() if fonts is None else fonts)]
    out = np.zeros((len(letters) * per_letter, SIZE, SIZE), np.uint8)
    i = 0
    for char in letters:
        usable = _fonts_for(char, pool)
        if not usable:
            raise NoFontsError(f"none of the {len(pool)} evaluation fonts has the letter {char!r}")
        for _ in range(per_letter):
            out[i] = render_glyph(rng, char, usable[int(rng.integers(len(usable)))])
            i += 1
    return out


def evaluation_negatives(
    rng: np.random.Generator,
    per_kind: int,
    digits: np.ndarray | None = None,
    kinds: Sequence[str] | None = None,
    fonts: Sequence[str | Path] | None = None,
) -> NegativeSet:
    """``per_kind`` held-out negatives of each kind but letters, in kind order (not shuffled).

    Symbols in held-out fonts, Fashion-MNIST's test split, fragments of ``digits`` (pass
    digits no model trained on: the validation split). ``kinds`` defaults to every kind
    but letters, without ``fashion`` when Fashion-MNIST is missing and without
    ``fragments`` when no digits are given."""
    if kinds is None:
        kinds = [
            k
            for k in KINDS
            if k != "letters"
            and (k != "fashion" or fashion_available())
            and (k not in ("fragments", "pairs") or digits is not None)
        ]
    held = held_out_fonts() if fonts is None else fonts
    parts = [
        _kind_set(rng, k, per_kind, exclude_letters=(), fonts=held, digits=digits, split="test", lookalikes=False)
        for k in kinds
    ]
    return _concat(parts, None)
