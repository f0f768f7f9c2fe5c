"""Reading a whole handwritten number: find the glyphs, recognize each, left to right.

``read_number(model, gray)`` over-segments, then lets the classifier choose:

1. The ink's bounding box is reduced by a block maximum (hairlines survive) until it is at most
   WORK_HEIGHT (64) rows tall, so an 8000 x 8000 scan costs what a canvas does; nothing full-size
   is allocated besides the caller's array.
2. 8-connected components (``components.py``: union-find over the runs of each row) are grouped
   when they overlap horizontally (the bar of a 5, the crossbar of a 7, a slashed 0); specks are
   dropped. Lengths from here on are in digit heights (the median group's).
3. Every group, and every run of up to three neighbouring groups narrow and close enough to be
   one digit (a digit broken into side-by-side pieces), is classified, all in one batch; dynamic
   programming picks the covering with the highest total score.
4. A chosen glyph that is suspicious (its top logit below SPLIT_LOGIT, or wider than SPLIT_WIDTH,
   and not both sure and of plausible width) is tried cut in two: vertical cuts every 0.2 heights,
   then half a step either side of the best; its best pair of pieces replaces it if they score
   higher. Pieces are tried again (three digits pressed together), up to SPLIT_DEPTH.

Why vertical cuts on a grid: on touching pairs composed from MNIST training digits, some vertical
cut reads both digits right for 97% of pairs (95% on a 0.1-height grid). Cuts at minima of the
ink projection, seam carving and per-row min-cut separators (all tried) find the right place only
about half the time: pushed-together digits interleave and overlap, so the true boundary crosses as
much ink as a cut through a single digit does.

Why the scores: the classifier only knows digits, so it reads a sliver cut off a 0 as a "1" and two
touching digits as one, both confidently. A glyph's score is a weighted sum of features
(``glyph_features``): the log-probability, the raw top logit and its margin over the second (the
logit falls on things the model never saw: whole digits median 5.1, two touching digits 2.7), a
per-glyph constant and one per digit read (two digits pressed together read as 0, 2, 8 ... more
often than as 1 or 7), how far its aspect ratio (signed, and one-sided when wider) and its ink length
are from its class's MNIST digits, width and height penalties, "a 1 beside a cut", the strokes a cut
goes through. The weights (``Priors``) were fitted by maximum likelihood on numbers composed from
MNIST training digits the model never trained on (half of its validation split: fitted on digits it
had learnt, the weights trusted its logits too much; ``python bench/number_bench.py --fit --write
--numbers 600`` refits and writes them here, for a new model too: for each
group, reading it whole versus each of its cuts; for each run of groups, merged versus apart), never
on the test digits. Work is bounded: at most MAX_GLYPHS groups and glyphs, MAX_CANDIDATES images
classified (4-digit numbers need 4 to 25).

Glyph images are brightened (``saturated``) when their strokes lack MNIST's saturated core (a digit
shrunk below 20 rows): the "not a digit" output refused those though it read them right.

Rejection: engine classifiers apply their own rule (what ``predict(x, reject=True)`` does) to the
logits already computed; other models are asked ``predict(x, reject=True)``, and a model without it
rejects a top probability below REJECT_THRESHOLD (0.67, which 99.5% of the rightly read digits of
validation numbers exceed: ``--validate``). In a number of two or more separate marks, a glyph at
least DIGIT_SIZED tall is refused only when its "not a digit" probability reaches NUMBER_REJECT
(``_digits_among_digits``). A rejected glyph reads "?".

Limits: touching digits are the weak spot (``bench/number_bench.py`` measures how weak), because
the model has no notion of "not a digit" to veto slivers and merged pairs; a model with an
eleventh "not a digit" output feeds it in as log P(digit) (``is_digit``). Slanted writing is cut
vertically; a lone horizontal stroke is its own digit height."""

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from .classifier import Classifier
from .components import label_components
from .errors import EngineError, InputShapeError
from .images import numeric_array
from .preprocess import INK_THRESHOLD, MAX_SIDE, preprocess, stroke_width

WORK_HEIGHT = 64  # the ink is reduced (block maximum) to at most this many rows ...
WORK_WIDTH = 2048  # ... and this many columns before anything else
MIN_PEAK = 0.05  # an image whose brightest pixel is below this has no ink (as in preprocess)
MAX_COMPONENTS = 256  # the largest components kept; more is noise
MAX_GLYPHS = 40  # at most this many groups, and glyphs in a reading
SPECK = 0.12  # components whose longer side is below this fraction of the digit height are dropped
GROUP_OVERLAP = 0.5  # components overlapping horizontally by this fraction of the narrower are one group
MERGE_GROUPS = 3  # a glyph is 1..3 consecutive groups (pieces of one digit side by side) ...
MAX_MERGE_WIDTH = 1.3  # ... no wider than this (x digit height) ...
MAX_MERGE_GAP = 0.3  # ... with blank gaps inside of at most this (x digit height) each
SPLIT_LOGIT = 3.5  # a glyph whose top logit is below this ...
SPLIT_WIDTH = 1.1  # ... or wider than this (x digit height) is tried cut in two ...
SURE_LOGIT = 4.6  # ... unless its top logit is at least this (two digits pressed together seldom are) ...
SURE_WIDTH = 1.5  # ... and it is no wider than this (x digit height)
CUT_STEP = 0.2  # cuts are vertical, at columns this far apart (x digit height), then half that around the best ...
CUT_MARGIN = 0.15  # ... leaving at least this on each side ...
MAX_CUTS = 16  # ... and at most this many per glyph: a mark many heights wide is cut coarser ...
FLAT = 6.0  # ... and one wider than this (x its own height: a dash, a 7's first stroke) not at all: no four pieces of it are digits
FINE_MARGIN = 4.0  # ... unless the best cut scores this much below the glyph whole
SPLIT_DEPTH = 2  # pieces are tried cut again up to this depth (three digits pressed together)
SLICE = 0.3  # a cut piece's parts smaller than this share of its largest that touch the cut are the neighbour's
MAX_CANDIDATES = 240  # glyph images classified per reading, at most
REJECT_THRESHOLD = 0.67  # for models without predict(..., reject=True): a top probability below this reads "?"
NUMBER_REJECT = 0.9  # in a number, a digit-sized glyph is refused only at this "not a digit" probability
DIGIT_SIZED = 0.6  # ... when at least this tall (x digit height); a dot or a dash between digits is not
LONE_MARGIN = 4.0  # a lone mark the model refuses, cut into pieces with a 1, stays one refused mark below this gain
SATURATED = 0.35  # a glyph image whose ink (> 0.2) is less than this share near full brightness (>= 0.9) ...
FULL_INK = 0.9  # ... is brightened until it is: 95% of MNIST digits already are, a digit shrunk or blurred is not

# log(width / height) of the ink box (pixels > 0.2) of MNIST's 60,000 training digits, per class: mean and
# spread (python bench/number_bench.py --fit prints them).
ASPECT_MEAN = np.array([-0.10, -0.91, -0.07, -0.23, -0.23, -0.07, -0.32, -0.26, -0.27, -0.39], np.float32)
ASPECT_SPREAD = np.array([0.19, 0.45, 0.21, 0.21, 0.21, 0.25, 0.21, 0.21, 0.22, 0.20], np.float32)
# log(ink pixels / (stroke width x ink height)), the stroke's length in heights, of the same digits.
INK_MEAN = np.array([0.79, 0.06, 0.71, 0.69, 0.56, 0.73, 0.59, 0.48, 0.72, 0.57], np.float32)
INK_SPREAD = np.array([0.12, 0.08, 0.15, 0.16, 0.11, 0.16, 0.17, 0.12, 0.15, 0.13], np.float32)


@dataclass(frozen=True)
class Priors:
    """Weights of a glyph's score: the features of ``glyph_features``, in this order, times these.

    Lengths are in digit heights. Fitted by ``python bench/number_bench.py --fit`` on numbers
    composed from MNIST training digits.
    """

    log_prob: float = 0.25  # log of the top digit's probability
    is_digit: float = 0.57  # log P(a digit) from a model's "not a digit" output (0 for ten-output models)
    top_logit: float = 0.54  # the top digit's logit: low for what the model never saw (two digits, a sliver)
    glyph: float = -0.57  # 1 per glyph: > 0 favours more, smaller glyphs
    aspect: float = 0.01  # z^2 / 2 of log(width / height) under the class's MNIST digits
    ink: float = -0.15  # z^2 / 2 of log(stroke length / height) above the class's MNIST digits'
    wide: float = 0.06  # width above 1
    short: float = -0.01  # height below 0.6
    cut_one: float = -0.88  # read as 1 beside a cut (a sliver cut off a digit reads as 1)
    cut_ink: float = -0.04  # ink the cut on its left goes through, in stroke widths
    cut_strokes: float = -0.62  # strokes (vertical ink runs) that cut goes through
    gap: float = -0.0  # blank gap between the glyph's parts
    aspect_wide: float = -0.17  # z^2 / 2 of the aspect when wider than the class's MNIST digits
    margin: float = 0.34  # the top logit above the second, up to 8
    unsure: float = -0.09  # the top logit below 3
    sliver: float = 0.0  # width below 0.35 when not read as 1
    very_wide: float = 0.06  # (width above 0.9)^2
    # a constant per glyph read as this digit (two digits pressed together read as some digits more than others)
    read_0: float = 0.14
    read_1: float = -0.81
    read_2: float = -0.27
    read_3: float = 0.02
    read_4: float = 0.04
    read_5: float = -0.03
    read_6: float = -0.18
    read_7: float = -0.17
    read_8: float = 0.24
    read_9: float = 0.47
    aspect_z: float = -0.17  # z of the aspect (signed: wider or narrower than the class's digits)
    ink_z: float = 0.5  # z of the stroke length (signed)

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)], np.float64)


PRIORS = Priors()


@dataclass(frozen=True)
class ReadDigit:
    """One glyph of a reading: its digit (None when it is not one), the model's probability for its
    top digit, and its box (x0, y0, x1, y1) in input pixels, ends exclusive: ``gray[y0:y1, x0:x1]``.

    ``image`` is the (28, 28) float32 picture the model read for it and ``probabilities`` the (10,)
    digit probabilities it gave that picture (``confidence`` is their maximum for a digit): what
    the page's bars and preview show, with no second model call that could differ."""

    label: int | None
    confidence: float
    box: tuple[int, int, int, int]
    probabilities: np.ndarray | None = field(default=None, compare=False, repr=False)
    image: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Reading:
    """What ``read_number`` read: the glyphs left to right; ``text`` spells them, "?" for a non-digit."""

    digits: tuple[ReadDigit, ...]

    @property
    def text(self) -> str:
        return "".join("?" if d.label is None else str(d.label) for d in self.digits)


# ---------- the page: check the input, reduce its ink, group it ----------


def _checked(gray) -> tuple[np.ndarray, float, float]:
    """The input as an array (not copied), its brightest value, and that value on preprocess's 0..1 scale
    (uint8 and values above 1 are 0..255 or 0..max; True is 1); InputShapeError for anything unusable."""
    arr = numeric_array(gray, "read_number needs a numeric 2-D grayscale array")
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise InputShapeError(
            f"read_number needs a 2-D grayscale image (height, width), got shape {arr.shape}; "
            "convert colour images to grayscale first"
        )
    if max(arr.shape) > MAX_SIDE:
        raise InputShapeError(f"image of {arr.shape[1]}x{arr.shape[0]} pixels is larger than {MAX_SIDE} on a side")
    boolean = arr.dtype == bool
    if boolean:
        arr = arr.view(np.uint8)
    lo, hi = arr.min(), arr.max()  # NaN propagates into both: no full-size temporary
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise InputShapeError("image contains NaN or infinite values")
    if lo < 0:
        raise InputShapeError(f"pixel values must be >= 0, got {lo}")
    if hi > np.finfo(np.float32).max:
        raise InputShapeError(
            f"values up to {float(hi):.3g} do not fit in float32; give pixels as uint8 0..255 or float 0..1"
        )
    hi = float(hi)
    if boolean:
        return arr, hi, hi
    if arr.dtype == np.uint8 or hi > 1.0:
        return arr, hi, (hi / 255.0 if hi <= 255.0 else 1.0)
    return arr, hi, hi


def _block_max(arr: np.ndarray, f: int) -> np.ndarray:
    """Maximum over f x f blocks (hairlines survive), in strips so no full-size temporary is made."""
    if f == 1:
        return np.array(arr)
    h, w = arr.shape
    rows, cols = -(-h // f), -(-w // f)
    out = np.empty((rows, cols), arr.dtype)
    step = max(1, (1 << 22) // (cols * f * f))  # block rows per strip: ~4M elements at a time
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        strip = np.zeros(((r1 - r0) * f, cols * f), arr.dtype)
        part = arr[r0 * f : r1 * f]
        strip[: part.shape[0], :w] = part
        out[r0:r1] = strip.reshape(r1 - r0, f, cols, f).max(axis=(1, 3))
    return out


@dataclass(frozen=True)
class Page:
    """The ink of one input at working resolution, in glyph-sized groups.

    Reduced pixel (x, y) covers the input pixels from origin + factor * (x, y), factor on a side.
    """

    arr: np.ndarray  # the input as given (boxes are tightened at full resolution)
    peak: float  # its brightest value
    img: np.ndarray  # (h, w) float32 in [0, 1]: the ink's bounding box, block-maximum reduced
    factor: int
    origin: tuple[int, int]  # (x, y) of img's corner in the input
    group_map: np.ndarray  # (h, w) int64: group per pixel, -1 background, -2 dropped ink
    boxes: np.ndarray  # (G, 4) each group's box x0, y0, x1, y1 (exclusive ends)
    order: list[int]  # groups left to right
    height: float  # the digit height every length is relative to (median group height)
    stroke: float  # stroke width, pixels


def page(gray) -> Page | None:
    """Check the input, reduce its ink, label and group it; None when there is no ink.

    Raises InputShapeError for the inputs ``preprocess`` refuses (wrong shape, too large, NaN, negative).
    """
    arr, hi, unit_peak = _checked(gray)
    if unit_peak <= MIN_PEAK:
        return None
    thr = INK_THRESHOLD * hi
    rows = np.flatnonzero(arr.max(axis=1) > thr)
    cols = np.flatnonzero(arr.max(axis=0) > thr)
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    f = max(1, -(-(y1 - y0) // WORK_HEIGHT), -(-(x1 - x0) // WORK_WIDTH))
    img = _block_max(arr[y0:y1, x0:x1], f).astype(np.float32)
    img /= np.float32(hi)
    comps = label_components(img > INK_THRESHOLD)
    group_of, boxes, order = _groups(comps)
    group_map = np.where(comps.labels >= 0, group_of[np.maximum(comps.labels, 0)], -1)
    group_map[(comps.labels >= 0) & (group_map < 0)] = -2
    height = float(np.median(boxes[order, 3] - boxes[order, 1]))
    return Page(arr, hi, img, f, (x0, y0), group_map, boxes, order, height, stroke_width(img))


def _union_groups(n: int, pairs) -> np.ndarray:
    """Group index per item from union-find over pairs, numbered by first member."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    _, out = np.unique([root(i) for i in range(n)], return_inverse=True)
    return out.reshape(-1)


def _groups(comps) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Glyph-sized groups of components: group per component (-1 dropped), group boxes, groups left to right.

    Specks (longer side below SPECK x the digit height) are dropped; components overlapping
    horizontally by GROUP_OVERLAP of the narrower one are one group (the pieces of a 5, a 4, a
    crossed 7); beyond MAX_GLYPHS groups the smallest are dropped.
    """
    boxes = comps.boxes
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    tall = heights >= 0.4 * heights.max()
    kept = np.flatnonzero(np.maximum(widths, heights) >= SPECK * float(np.median(heights[tall])))
    kept = kept[np.argsort(-comps.areas[kept], kind="stable")[:MAX_COMPONENTS]]
    kb = boxes[kept]
    kw = kb[:, 2] - kb[:, 0]
    overlap = np.minimum(kb[:, None, 2], kb[None, :, 2]) - np.maximum(kb[:, None, 0], kb[None, :, 0])
    close = overlap >= GROUP_OVERLAP * np.minimum(kw[:, None], kw[None, :])
    group_of_kept = _union_groups(len(kept), zip(*np.nonzero(np.triu(close, 1))))
    n = int(group_of_kept.max()) + 1
    gbox = np.empty((n, 4), np.int64)
    for g in range(n):
        b = kb[group_of_kept == g]
        gbox[g] = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    area = np.bincount(group_of_kept, weights=comps.areas[kept], minlength=n)
    big = np.sort(np.argsort(-area, kind="stable")[:MAX_GLYPHS])
    keep_group = np.zeros(n, bool)
    keep_group[big] = True
    group_of = np.full(comps.count, -1, np.int64)
    group_of[kept] = np.where(keep_group[group_of_kept], group_of_kept, -1)
    order = [int(g) for g in big[np.argsort((gbox[big, 0] + gbox[big, 2]) / 2, kind="stable")]]
    return group_of, gbox, order


# ---------- glyphs: pieces of the page, their images and scores ----------

Part = tuple[int, int, int]  # (group, x0, x1): the group's ink in columns x0 .. x1 - 1


@dataclass(frozen=True)
class Glyph:
    """A candidate glyph: its parts, its ink box in the reduced image, what made it."""

    parts: tuple[Part, ...]
    box: tuple[int, int, int, int]
    ink: int  # ink pixels
    gap: int = 0  # blank columns between its parts
    cut_ink: float = 0.0  # ink the cut on its left goes through, in stroke widths (0: no cut there)
    cut_strokes: int = 0  # strokes (vertical ink runs) that cut goes through
    cut_left: bool = False  # its left side is a cut (not a blank gap) ...
    cut_right: bool = False  # ... its right side is


def _glyph(pg: Page, parts: Sequence[Part], **made) -> Glyph | None:
    """The glyph of these parts, None if one of them has no ink."""
    rows, ink = [], 0
    for g, x0, x1 in parts:
        gy0, gy1 = int(pg.boxes[g, 1]), int(pg.boxes[g, 3])
        mine = pg.group_map[gy0:gy1, x0:x1] == g
        inked = np.flatnonzero(mine.any(axis=1))
        if not len(inked):
            return None
        rows += [gy0 + int(inked[0]), gy0 + int(inked[-1]) + 1]
        ink += int(mine.sum())
    box = (min(p[1] for p in parts), min(rows), max(p[2] for p in parts), max(rows))
    return Glyph(tuple(parts), box, ink, **made)


def _glyph_pixels(pg: Page, glyph: Glyph) -> np.ndarray:
    """The glyph's ink within its box. Beside a cut, bits that touch the cut without joining the glyph's
    largest piece and are smaller than SLICE of it (slices of the neighbour the cut went through) are
    left out."""
    x0, y0, x1, y1 = glyph.box
    groups = pg.group_map[y0:y1, x0:x1]
    mine = np.zeros(groups.shape, bool)
    cols = np.arange(x0, x1)[None, :]
    for g, a, b in glyph.parts:
        mine |= (groups == g) & (cols >= a) & (cols < b)
    if glyph.cut_left or glyph.cut_right:
        comps = label_components(mine)
        if comps.count > 1:
            edge = np.zeros(comps.count, bool)
            if glyph.cut_left:
                edge |= comps.boxes[:, 0] == 0
            if glyph.cut_right:
                edge |= comps.boxes[:, 2] == x1 - x0
            drop = edge & (comps.areas < SLICE * comps.areas.max())
            mine &= (comps.labels < 0) | ~drop[np.maximum(comps.labels, 0)]
    return mine


def glyph_image(pg: Page, glyph: Glyph) -> np.ndarray:
    """``preprocess`` of the glyph's pixels: its ink and the faint background around it, nobody else's ink."""
    x0, y0, x1, y1 = glyph.box
    keep = (pg.group_map[y0:y1, x0:x1] == -1) | _glyph_pixels(pg, glyph)
    return saturated(preprocess(np.where(keep, pg.img[y0:y1, x0:x1], np.float32(0))))


def saturated(x28: np.ndarray) -> np.ndarray:
    """The image brightened so that at least SATURATED of its ink is at FULL_INK or more.

    MNIST strokes have a saturated core; a digit reduced from fewer than 20 rows (smaller than
    MNIST's box) or blurred has none, and the model calls 37% of those 16 px tall "not a digit"
    (1% after this), though it reads them right. Images already like MNIST's come back unchanged.
    """
    ink = x28[x28 > INK_THRESHOLD]
    if not len(ink):
        return x28
    level = float(np.quantile(ink, 1.0 - SATURATED))
    if level >= FULL_INK:
        return x28
    return np.minimum(x28 * np.float32(FULL_INK / level), np.float32(1.0))


def glyph_features(pg: Page, glyph: Glyph, logits: np.ndarray) -> np.ndarray:
    """The terms of a glyph's score, in the order of ``Priors``' fields, from the model's logits for it."""
    x0, y0, x1, y1 = glyph.box
    scores = logits.astype(np.float64)
    digits = scores[:10]
    c = int(digits.argmax())
    top = float(digits[c])
    second = float(np.partition(digits, -2)[-2])
    width = (x1 - x0) / pg.height
    digit_mass = math.log(float(np.exp(digits - top).sum()))
    peak = float(scores.max())  # log-sum-exp from the largest: a huge "not a digit" logit must not overflow
    is_digit = digit_mass - (peak - top + math.log(float(np.exp(scores - peak).sum())))  # 0 without that output
    z = (math.log((x1 - x0) / (y1 - y0)) - float(ASPECT_MEAN[c])) / max(float(ASPECT_SPREAD[c]), 0.2)
    length = math.log(max(glyph.ink, 1) / (max(pg.stroke, 1.0) * (y1 - y0)))
    zi = max(length - float(INK_MEAN[c]), 0.0) / max(float(INK_SPREAD[c]), 0.15)
    return np.array(
        [
            -digit_mass,
            is_digit,
            top,
            1.0,
            z * z / 2,
            zi * zi / 2,
            max(width - 1.0, 0.0),
            max(0.6 - (y1 - y0) / pg.height, 0.0),
            float(c == 1 and (glyph.cut_left or glyph.cut_right)),
            glyph.cut_ink,
            float(glyph.cut_strokes),
            glyph.gap / pg.height,
            max(z, 0.0) ** 2 / 2,
            min(top - second, 8.0),
            max(3.0 - top, 0.0),
            float(c != 1) * max(0.35 - width, 0.0),
            max(width - 0.9, 0.0) ** 2,
            *[float(c == k) for k in range(10)],
            z,
            (length - float(INK_MEAN[c])) / max(float(INK_SPREAD[c]), 0.15),
        ]
    )


def glyph_score(pg: Page, glyph: Glyph, logits: np.ndarray, priors: Priors) -> float:
    """How likely the glyph is one whole digit, on a log scale: its features weighted by ``priors``."""
    return float(glyph_features(pg, glyph, logits) @ priors.vector())


def digit_probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax over the ten digits' logits (a "not a digit" eleventh is left out)."""
    digits = logits[..., :10]
    e = np.exp(digits - digits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _merges(pg: Page) -> list[tuple[int, int, Glyph]]:
    """(first, last, glyph) for each run of 1..MERGE_GROUPS consecutive groups that could be one digit."""
    out = []
    n = len(pg.order)
    for s in range(n):
        for e in range(s, min(n, s + MERGE_GROUPS)):
            b = pg.boxes[pg.order[s : e + 1]]
            b = b[np.argsort(b[:, 0], kind="stable")]
            gaps = np.maximum(b[1:, 0] - np.maximum.accumulate(b[:-1, 2]), 0)
            if e > s and (
                b[:, 2].max() - b[:, 0].min() > MAX_MERGE_WIDTH * pg.height or gaps.max() > MAX_MERGE_GAP * pg.height
            ):
                break
            parts = [(g, int(pg.boxes[g, 0]), int(pg.boxes[g, 2])) for g in pg.order[s : e + 1]]
            glyph = _glyph(pg, parts, gap=int(gaps.sum()))
            if glyph is not None:
                out.append((s, e, glyph))
    return out


def _cut_range(pg: Page, glyph: Glyph) -> tuple[int, int]:
    """The columns a one-part glyph may be cut at: lo..hi, CUT_MARGIN x height from either side."""
    ((_, a, b),) = glyph.parts
    margin = max(1, round(CUT_MARGIN * pg.height))
    return a + margin, b - margin


def _cut_step(pg: Page, glyph: Glyph) -> float:
    """Columns between the cuts tried through ``glyph``: CUT_STEP x height, or coarser where that would
    make more than MAX_CUTS (a flat stroke 20 heights wide was cut at every column: 111 glyph images
    classified, 0.85 s in the page, for a 7's first stroke)."""
    return max(CUT_STEP * pg.height, (glyph.box[2] - glyph.box[0]) / MAX_CUTS)


def _grid(lo: int, hi: int, step: float) -> list[int]:
    """Columns from lo to hi, evenly spaced about ``step`` apart."""
    if hi < lo:
        return []
    count = int((hi - lo) // max(1.0, step)) + 1
    return sorted({int(round(lo + k * (hi - lo) / max(count - 1, 1))) for k in range(count)})


def _splits(pg: Page, glyph: Glyph, columns: Sequence[int]) -> list[tuple[Glyph, Glyph]]:
    """A one-part glyph cut in two at each of ``columns``: (left, right) pairs; the cut's ink and
    strokes go with the right piece."""
    ((g, a, b),) = glyph.parts
    gy0, gy1 = int(pg.boxes[g, 1]), int(pg.boxes[g, 3])
    ink = pg.group_map[gy0:gy1, a:b] == g
    strokes = (ink & ~np.vstack([np.zeros((1, b - a), bool), ink[:-1]])).sum(axis=0)  # runs start per column
    out = []
    for x in columns:
        left = _glyph(
            pg,
            [(g, a, x)],
            cut_ink=glyph.cut_ink,
            cut_strokes=glyph.cut_strokes,
            cut_left=glyph.cut_left,
            cut_right=True,
        )
        right = _glyph(
            pg,
            [(g, x, b)],
            cut_ink=float(ink[:, x - a].sum()) / max(pg.stroke, 1.0),
            cut_strokes=int(strokes[x - a]),
            cut_left=True,
            cut_right=glyph.cut_right,
        )
        if left is not None and right is not None:
            out.append((left, right))
    return out


def _suspicious(pg: Page, glyph: Glyph, logits: np.ndarray) -> bool:
    """Worth trying to cut: one part, not flat, and read unsurely or too wide, and not read surely at a plausible width."""
    x0, y0, x1, y1 = glyph.box
    top, width = float(logits[:10].max()), (x1 - x0) / pg.height
    unsure = top < SPLIT_LOGIT or width > SPLIT_WIDTH
    flat = x1 - x0 > FLAT * max(1, y1 - y0)
    return len(glyph.parts) == 1 and unsure and (top < SURE_LOGIT or width > SURE_WIDTH) and not flat


def _best_path(n: int, spans: list[tuple[int, int]], scores: list[float]) -> list[int]:
    """Indices of candidates covering items 0..n-1 once, left to right, with the largest total score
    (a score that is not a finite number counts as the lowest there is)."""
    best = [-math.inf] * (n + 1)
    best[0] = 0.0
    back = [-1] * (n + 1)
    for c in sorted(range(len(spans)), key=lambda c: spans[c][1]):
        s, e = spans[c]
        score = scores[c] if math.isfinite(scores[c]) else -1e300
        if best[s] + score > best[e + 1]:
            best[e + 1], back[e + 1] = best[s] + score, c
    path, e = [], n
    while e > 0:
        if back[e] < 0:
            raise ValueError(f"no candidates cover item {e - 1} of {n}")  # the spans leave a gap
        path.append(back[e])
        e = spans[back[e]][0]
    return path[::-1]


Classify = Callable[[Page, Sequence[Glyph]], np.ndarray]


Split = tuple[float, list[tuple[Glyph, np.ndarray]]]  # (score, [(left, logits), (right, logits)])


def _best_splits(
    pg: Page, todo: dict[int, list[tuple[Glyph, Glyph]]], classify: Classify, priors: Priors, best: dict[int, Split]
) -> None:
    """Classify every piece of ``todo`` (glyph index -> cuts) in one call; keep each glyph's best cut in ``best``."""
    pieces = [piece for pairs in todo.values() for pair in pairs for piece in pair]
    if not pieces:
        return
    logits = iter(classify(pg, pieces))
    for i, pairs in todo.items():
        for left, right in pairs:
            lg_left, lg_right = next(logits), next(logits)
            score = glyph_score(pg, left, lg_left, priors) + glyph_score(pg, right, lg_right, priors)
            if i not in best or score > best[i][0]:
                best[i] = (score, [(left, lg_left), (right, lg_right)])


def read_glyphs(
    pg: Page, classify: Classify, priors: Priors = PRIORS, candidates: int = MAX_CANDIDATES
) -> list[tuple[Glyph, np.ndarray]]:
    """The glyphs of a page left to right, each with the model's logits for it.

    ``classify(page, glyphs)`` gives (len(glyphs), 10 or 11) logits. It is called once for every
    group and run of groups that could be one digit (the best covering is chosen by dynamic
    programming), then, per depth of cutting, once for cuts ``_cut_step`` apart through
    every chosen glyph that is suspicious (``_suspicious``) and once for the columns half a step
    either side of each one's best cut (unless that cut loses to the whole glyph by FINE_MARGIN); a glyph is replaced by its best pair of pieces when they
    score higher than it. Cuts stop where they would take the glyph images classified past ``candidates``.
    """
    merges = _merges(pg)
    logits = classify(pg, [m[2] for m in merges])
    scores = [glyph_score(pg, m[2], lg, priors) for m, lg in zip(merges, logits)]
    chosen = [(merges[c][2], logits[c]) for c in _best_path(len(pg.order), [(s, e) for s, e, _ in merges], scores)]
    budget = candidates - len(merges)
    tried: set[tuple[Part, ...]] = set()
    for _ in range(SPLIT_DEPTH):
        coarse: dict[int, list[tuple[Glyph, Glyph]]] = {}
        for i, (glyph, lg) in enumerate(chosen):
            if glyph.parts in tried or not _suspicious(pg, glyph, lg):
                continue
            tried.add(glyph.parts)
            pairs = _splits(pg, glyph, _grid(*_cut_range(pg, glyph), _cut_step(pg, glyph)))
            if pairs and 4 * len(pairs) <= budget and len(chosen) + len(coarse) < MAX_GLYPHS:
                coarse[i] = pairs
                budget -= 2 * len(pairs)
        if not coarse:
            break
        best: dict[int, Split] = {}
        _best_splits(pg, coarse, classify, priors, best)
        fine = {}
        whole = {i: glyph_score(pg, *chosen[i], priors) for i in best}
        for i in best:
            if best[i][0] < whole[i] - FINE_MARGIN:
                continue  # the best coarse cut loses by far: a column either side seldom wins
            lo, hi = _cut_range(pg, chosen[i][0])
            step = _cut_step(pg, chosen[i][0])
            x = best[i][1][0][0].parts[0][2]
            columns = [c for c in (round(x - step / 2), round(x + step / 2)) if lo <= c <= hi]
            fine[i] = _splits(pg, chosen[i][0], columns)
            budget -= 2 * len(fine[i])
        _best_splits(pg, fine, classify, priors, best)
        replace = {i: pieces for i, (score, pieces) in best.items() if score > whole[i]}
        chosen = [item for i, c in enumerate(chosen) for item in replace.get(i, [c])]
    return chosen


# ---------- reading ----------


def _input_box(pg: Page, box) -> tuple[int, int, int, int]:
    """A reduced-image box in input pixels, tightened to the ink inside it."""
    f, (ox, oy) = pg.factor, pg.origin
    h, w = pg.arr.shape
    x0, y0 = ox + f * int(box[0]), oy + f * int(box[1])
    x1, y1 = min(w, ox + f * int(box[2])), min(h, oy + f * int(box[3]))
    if f > 1:
        region = pg.arr[y0:y1, x0:x1]
        thr = INK_THRESHOLD * pg.peak
        rows, cols = np.flatnonzero(region.max(axis=1) > thr), np.flatnonzero(region.max(axis=0) > thr)
        if len(rows) and len(cols):
            x0, x1, y0, y1 = x0 + int(cols[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[0]), y0 + int(rows[-1]) + 1
    return x0, y0, x1, y1


LOGIT_LIMIT = 1e4  # logits are clipped to +-this: a damaged model's inf or NaN must not reach the scores


def model_logits(model, images: np.ndarray) -> np.ndarray:
    """The model's logits for (N, 28, 28) images; log-probabilities for a model that only has predict_proba.
    Finite always: a model whose outputs overflow on some glyph (load_model proves them finite on three
    plain images only) made the glyph scores NaN, and choosing among NaN scores never ended."""
    if hasattr(model, "logits") and hasattr(model, "input_shape"):
        with np.errstate(all="ignore"):
            logits = np.asarray(model.logits(images.reshape((len(images), *model.input_shape))), np.float32)
    else:
        logits = np.log(np.maximum(np.asarray(model.predict_proba(images), np.float32), np.float32(1e-12)))
    return np.clip(np.nan_to_num(logits, nan=0.0), -LOGIT_LIMIT, LOGIT_LIMIT)


def model_classifier(model, images: dict | None = None, logits: dict | None = None) -> Classify:
    """``classify`` for read_glyphs from a model; each glyph's 28x28 image is kept in ``images`` and its
    logits in ``logits`` (keyed by its parts)."""
    kept = {} if images is None else images
    scores = {} if logits is None else logits

    def classify(pg: Page, glyphs: Sequence[Glyph]) -> np.ndarray:
        if not glyphs:
            return np.zeros((0, 10), np.float32)
        for g in glyphs:
            kept[g.parts] = glyph_image(pg, g)
        out = model_logits(model, np.stack([kept[g.parts] for g in glyphs]))
        scores.update(zip((g.parts for g in glyphs), out))
        return out

    return classify


def _rejected(model, images: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """True where a glyph is not a digit: the rule ``model.predict(images, reject=True)`` applies, on the
    logits already computed for an engine classifier; a low top probability for a model without one."""
    if isinstance(model, Classifier):  # the same rule predict(..., reject=True) applies, without a second pass
        return np.asarray(model.rejected_by_logits(images, logits))
    try:
        labels = model.predict(images, reject=True)
    except TypeError:  # a model without "not a digit"
        return digit_probabilities(logits).max(axis=1) < REJECT_THRESHOLD
    return np.asarray(labels) < 0


def read_number(model, gray, *, reject: bool = True, candidates: int = MAX_CANDIDATES) -> Reading:
    """Read every digit in a 2-D grayscale image (ink bright on dark, any size), left to right.

    ``reject=False`` gives every glyph its most likely digit, even when it looks like none.
    ``candidates``: at most this many glyph images are classified for cutting touching digits apart
    (every group and run of groups is classified regardless); fewer is faster and cuts less, as the
    page does while the pen is still moving.
    Raises InputShapeError for the inputs ``engine.preprocess`` refuses, EngineError for bad ``candidates``.
    """
    if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
        raise EngineError(f"candidates must be a whole number of at least 1, got {candidates!r:.40}")
    pg = page(gray)
    if pg is None:
        return Reading(())
    images: dict = {}
    seen: dict = {}
    glyphs = read_glyphs(pg, model_classifier(model, images, seen), candidates=candidates)
    logits = np.stack([lg for _, lg in glyphs])
    probs = digit_probabilities(logits)
    refused = np.zeros(len(glyphs), bool)
    refuted: set[int] = set()
    if reject:
        refused = _rejected(model, np.stack([images[g.parts] for g, _ in glyphs]), logits)
        refused &= ~_digits_among_digits(pg, [g for g, _ in glyphs], logits)
        refuted = _letters_cut(model, pg, glyphs, images, seen)
    read = [
        ReadDigit(
            None if refused[i] else int(probs[i].argmax()),
            float(probs[i].max()),
            _input_box(pg, g.box),
            probs[i],
            images[g.parts],
        )
        for i, (g, _) in enumerate(glyphs)
    ]
    classify = model_classifier(model, images, seen)

    def whole(run: Sequence[Glyph]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The picture and digit probabilities of the one mark a run of cut pieces came from."""
        (g, a, _), (_, _, b) = run[0].parts[0], run[-1].parts[-1]
        mark = _glyph(pg, [(g, a, b)])
        if mark is None:
            return None, None
        if mark.parts not in seen:
            classify(pg, [mark])
        return images[mark.parts], digit_probabilities(seen[mark.parts])

    return Reading(tuple(_rejoin_refused_cuts([g for g, _ in glyphs], read, refuted, whole)))


def _digits_among_digits(pg: Page, glyphs: Sequence[Glyph], logits: np.ndarray) -> np.ndarray:
    """True for glyphs of a number (two or more separate marks) that are digit-sized and whose "not a digit"
    probability is below NUMBER_REJECT: these are read, whatever the single-image rule says.

    The model's rule is set to keep 99% of MNIST digits alone; in a number the neighbours say it is
    a number, and the glyphs are cut out of it (shrunk, slanted, clipped by a neighbour), so the
    rule refused 1% of the rightly read glyphs of validation numbers, 4% of whole numbers. The glyphs
    it still refused at NUMBER_REJECT 0.5, in numbers of held-out digits, were nearly all digits read
    right (not a digit 0.50 to 0.88; 1.7% of 0%- and 20%-touching numbers): at 0.9 those read, and a
    cut piece refused at 0.9 still turns its run back into one refused mark."""
    keep = np.zeros(len(glyphs), bool)
    marks = {part[0] for g in glyphs for part in g.parts}
    if len(marks) < 2 or logits.shape[1] <= 10:  # one mark cut in two (an X) is no number yet
        return keep
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    not_digit = np.exp(shifted[:, 10]) / np.exp(shifted).sum(axis=1)
    tall = np.array([(g.box[3] - g.box[1]) >= DIGIT_SIZED * pg.height for g in glyphs])
    return tall & (not_digit < NUMBER_REJECT)


def _cut_runs(glyphs: Sequence[Glyph]) -> list[tuple[int, int]]:
    """(start, end) of each run of glyphs cut from one another (one glyph alone is a run), left to right."""
    out, start = [], 0
    for end in range(1, len(glyphs) + 1):
        if end == len(glyphs) or not (glyphs[end].cut_left and glyphs[end - 1].cut_right):
            out.append((start, end))
            start = end
    return out


def _letters_cut(model, pg: Page, glyphs: Sequence[tuple[Glyph, np.ndarray]], images: dict, seen: dict) -> set[int]:
    """Starts of the runs of cut pieces that are more likely one letter than touching digits: the page's
    only mark, which the model refuses whole, cut into pieces one of which reads 1, scoring less than
    LONE_MARGIN above the whole mark.

    A letter's strokes are digit-like pieces (A: 1 and 4; n, h: 1 and 7; M: 1 and 4), and the model is
    as sure that a letter is no digit as that two touching digits are none. Two touching digits
    alone on a page seldom involve a 1 cut off at a small margin: on touching pairs and triples
    composed from MNIST validation digits, 4.6% of those read right had one; of the tune half of
    tests/letter_samples.py's letters cut into digits, 84%."""
    out: set[int] = set()
    if len(pg.order) != 1:
        return out
    for start, end in _cut_runs([g for g, _ in glyphs]):
        run = glyphs[start:end]
        if len(run) < 2 or not any(int(lg[:10].argmax()) == 1 for _, lg in run):
            continue
        (g, a, _), (_, _, b) = run[0][0].parts[0], run[-1][0].parts[-1]
        whole = _glyph(pg, [(g, a, b)])
        if whole is None or whole.parts not in seen:
            continue
        lg = seen[whole.parts]
        if not _rejected(model, images[whole.parts][None], lg[None])[0]:
            continue
        margin = sum(glyph_score(pg, p, plg, PRIORS) for p, plg in run) - glyph_score(pg, whole, lg, PRIORS)
        if margin < LONE_MARGIN:
            out.add(start)
    return out


def _rejoin_refused_cuts(
    glyphs: Sequence[Glyph],
    read: list[ReadDigit],
    refuted: Collection[int] = (),
    whole: Callable[[Sequence[Glyph]], tuple[np.ndarray | None, np.ndarray | None]] = lambda run: (None, None),
) -> list[ReadDigit]:
    """Pieces cut from one another are one mark again when any of them is not a digit, or when the run
    starts at an index in ``refuted`` (``_letters_cut``).

    A cut is the hypothesis "these are two digits touching"; a piece that is no digit refutes
    it (an X cut in two reads "7?" otherwise), so the pieces become one refused glyph, with the picture
    and probabilities ``whole`` gives the run's glyphs."""
    out: list[ReadDigit] = []
    for start, end in _cut_runs(glyphs):
        run = read[start:end]
        if len(run) > 1 and (start in refuted or any(d.label is None for d in run)):
            box = tuple(f(d.box[k] for d in run) for k, f in enumerate((min, min, max, max)))
            image, probabilities = whole(glyphs[start:end])
            confidence = min(d.confidence for d in run) if probabilities is None else float(probabilities.max())
            out.append(ReadDigit(None, confidence, box, probabilities, image))  # type: ignore[arg-type]
        else:
            out.extend(run)
    return out
