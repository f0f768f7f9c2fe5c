"""Reading whole numbers (``engine.read_number``): accuracy on composed handwritten numbers, and speed.

    python bench/number_bench.py [--numbers 1000]   # the report, on MNIST test digits
    python bench/number_bench.py --fit --numbers 600   # fit number_reader.Priors on held-out digits, first half
    python bench/number_bench.py --validate         # accuracy on the second half, NUMBER_REJECT, the fallback threshold

Numbers are composed from MNIST digits: 3 to 8 of them, each scaled to the number's height
(20 to 80 px) +-20%, with uneven gaps, a baseline that drifts and jitters, a slight slant of the
whole number, and a fraction of neighbour pairs pushed together until their ink overlaps by 1-3
pixels of a 20-pixel MNIST digit (so 1-3 px at 20 px tall, 4-12 px at 80). The reader's settings
were chosen on numbers composed from the model's **held-out** training digits (``held_out``: the
5,000 of its validation split, which it never trained on, so it reads them as unsurely as new
writing; ``--fit`` on the first half, ``--validate`` on the second); the report reads numbers
composed from the **test** digits. Digits drawn as polylines with a thin and
a thick pen check multi-stroke digits (a 4 and a 7 with a separate crossbar, a 5 with a separate
top bar). Time is CPython's per 4-digit number on an 800x200 canvas, with the engine on one
thread and BLAS on one, as close to the page (Pyodide: no threads, no BLAS) as CPython gets.
"""

import argparse
import re
import time
from dataclasses import fields

import numpy as np

from common import ROOT, machine, machine_line, save_json

import engine
from digits.cpu_runtime import engine_threads
from digits.mnist import load_mnist
from digits.number_layout import Composed, compose, ink_crops, scaled  # noqa: F401  (tests compose with them)
from engine import number_reader as reader
from engine.preprocess import stroke_width
from engine.train import stratified_split

HELD_OUT = 5000  # the shipped model's validation split: train_offline.py's --val-size ...
HELD_OUT_SEED = 0  # ... and --seed (its card's command uses both defaults)
FIT_STEP = 0.1  # --fit tries every group cut at columns this far apart (x digit height)


# ---------- composing numbers from digit images ----------


def held_out(mnist, half: str) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of the training digits the shipped model never trained on (its validation
    split), ``half`` "fit" (the first 2,500) or "validate" (the rest).

    Numbers composed from digits the model trained on read surer than new writing: fitted there,
    the weights trusted the logits too much (training digits 50,000+, 92% of them trained on, read
    97.3% of 0%-touching numbers right; these digits 94.2%, the test digits 94.5%)."""
    _, idx = stratified_split(mnist["train_labels"], HELD_OUT, np.random.default_rng(HELD_OUT_SEED))
    idx = idx[: HELD_OUT // 2] if half == "fit" else idx[HELD_OUT // 2 :]
    return mnist["train_images"][idx], mnist["train_labels"][idx]


# ---------- digits drawn as strokes ----------

# Polylines in a box 0.6 wide and 1 tall (y down), in hundredths: "x,y x,y ..." per stroke, strokes
# separated by "|". "0/" is a slashed zero; "4:" a 4 of three strokes with gaps; "5:" a 5 whose top
# bar floats free; "7:" a 7 whose short crossbar stops at the stem.
ZERO = "30,0 8,15 2,50 10,88 30,100 50,88 58,50 52,15 30,0"
STROKE_TEXT = {
    "0": ZERO,
    "0/": ZERO + " | 55,5 5,95",
    "1": "20,15 35,0 35,100",
    "2": "5,22 20,4 42,2 56,20 50,45 5,100 60,98",
    "3": "5,10 30,0 55,12 50,35 25,48 55,60 58,85 35,100 5,92",
    "4": "35,0 2,62 60,62 | 45,30 45,100",
    "4:": "30,0 3,56 | 8,64 60,64 | 45,22 45,100",
    "5": "12,3 8,45 35,38 55,55 55,80 35,100 5,90 | 12,3 55,0",
    "5:": "12,8 8,45 35,38 55,55 55,80 35,100 5,90 | 20,0 58,-2",
    "6": "50,0 20,30 5,70 20,100 45,95 55,70 40,55 10,65",
    "7": "2,2 60,0 25,100 | 18,50 55,50",
    "7:": "2,2 60,0 25,100 | 10,52 31,52",
    "8": "50,10 30,0 10,10 10,30 50,65 55,85 30,100 5,85 10,65 50,30 50,10",
    "9": "55,20 35,0 10,10 10,35 35,45 55,30 55,20 50,100",
}


def strokes(text: str) -> list[list[tuple[float, float]]]:
    """ "x,y x,y | x,y ..." in hundredths -> polylines in units."""
    return [[(int(x) / 100, int(y) / 100) for x, y in (p.split(",") for p in s.split())] for s in text.split("|")]


STROKES = {key: strokes(text) for key, text in STROKE_TEXT.items()}


def draw(
    strokes: list[list[tuple[float, float]]], height: int, pen: float, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Render polylines (unit box, y down) ``height`` px tall with a round pen ``pen`` px wide, anti-aliased.

    With ``rng`` the digit is jittered first: scale, shear, rotation and each vertex a little.
    """
    pts = [np.array(s, np.float64) for s in strokes]
    if rng is not None:
        a = np.deg2rad(rng.uniform(-6, 6))
        m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array(
            [[rng.uniform(0.85, 1.15), rng.uniform(-0.15, 0.15)], [0, 1]]
        )
        pts = [(p - 0.5) @ m.T + 0.5 + rng.normal(0, 0.015, p.shape) for p in pts]
    allp = np.concatenate(pts)
    scale = height - pen - 2
    lo = allp.min(axis=0)
    pts = [(p - lo) * scale + pen / 2 + 1 for p in pts]
    w = int(np.ceil((np.concatenate(pts)[:, 0].max()) + pen / 2 + 2))
    yy, xx = np.mgrid[0:height, 0:w].astype(np.float64) + 0.5
    dist = np.full((height, w), np.inf)
    for p in pts:
        for (x0, y0), (x1, y1) in zip(p[:-1], p[1:]):
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
            np.minimum(dist, np.hypot(xx - x0 - t * dx, yy - y0 - t * dy), out=dist)
    return np.clip(pen / 2 - dist + 0.5, 0, 1).astype(np.float32)


def stroke_label(key: str) -> int:
    return int(key[0])


# ---------- numbers to read ----------


def random_numbers(rng, images, labels, count: int, lengths, touch: float, heights=(20, 80)):
    """``count`` (Composed, text) pairs: numbers of ``lengths`` digits drawn from ``images``."""
    crops = ink_crops(images)
    out = []
    for _ in range(count):
        idx = rng.integers(0, len(crops), int(rng.choice(lengths)))
        c = compose(rng, [crops[i] for i in idx], touch, rng.uniform(*heights))
        out.append((c, "".join(str(int(labels[i])) for i in idx)))
    return out


def stroke_numbers(rng, count: int, pen: float, length: int = 4):
    """``count`` (Composed, text) pairs of numbers drawn as strokes, pen width ``pen`` x digit height."""
    keys = list(STROKES)
    out = []
    for _ in range(count):
        chosen = [keys[i] for i in rng.integers(0, len(keys), length)]
        glyphs = [draw(STROKES[k], 100, pen * 100, rng) for k in chosen]
        out.append((compose(rng, glyphs, 0.0, rng.uniform(40, 120)), "".join(str(stroke_label(k)) for k in chosen)))
    return out


# ---------- measuring ----------


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def score(model, samples) -> dict:
    """Whole-number accuracy, with rejection (the default) and without, and per-digit accuracy
    (1 - edit distance / length, over all digits)."""
    right = unrejected = errors = digits = 0
    for c, text in samples:
        got = engine.read_number(model, c.image).text
        right += got == text
        unrejected += engine.read_number(model, c.image, reject=False).text == text
        digits += len(text)
        errors += min(edit_distance(got, text), len(text))
    n = len(samples)
    return {"numbers": n, "whole": right / n, "whole_without_rejection": unrejected / n, "digits": 1 - errors / digits}


def time_four_digits(model, rng, images, repeats: int = 30) -> dict:
    """Seconds per read of a 4-digit number (20% of neighbours touching) on an 800x200 canvas, digits
    ~130 px tall, and glyph images classified per read."""
    crops = ink_crops(images)
    seconds, classified = [], []
    for _ in range(repeats):
        img = compose(rng, [crops[i] for i in rng.integers(0, len(crops), 4)], 0.2, 130).image
        canvas = np.zeros((200, 800), np.float32)
        h, w = min(200, img.shape[0]), min(800, img.shape[1])
        canvas[:h, :w] = img[:h, :w]
        gray = (canvas * 255).astype(np.uint8)
        start = time.perf_counter()
        engine.read_number(model, gray)
        seconds.append(time.perf_counter() - start)
        pg = reader.page(gray)
        count = [0]
        classify = reader.model_classifier(model)

        def counting(p, glyphs, classify=classify, count=count):
            count[0] += len(glyphs)
            return classify(p, glyphs)

        reader.read_glyphs(pg, counting)
        classified.append(count[0])
    return {
        "median": float(np.median(seconds)),
        "p90": float(np.percentile(seconds, 90)),
        "classified": float(np.mean(classified)),
    }


def time_hostile(model) -> dict:
    """Seconds for inputs that must not hang: 8000x8000 all ink, 1 x 8000, 8000 x 8000 noise."""
    rng = np.random.default_rng(0)
    cases = {
        "8000x8000 all ink": np.full((8000, 8000), 255, np.uint8),
        "1x8000 dashes": np.tile(np.array([255] * 3 + [0] * 5, np.uint8), 1000)[None],
        "8000x8000 noise": rng.integers(0, 2, (8000, 8000), dtype=np.uint8) * np.uint8(255),
    }
    out = {}
    for name, gray in cases.items():
        start = time.perf_counter()
        engine.read_number(model, gray)
        out[name] = time.perf_counter() - start
    return out


def stroke_results(model, rng, per_case: int = 20) -> dict:
    """Single drawn digits (each template, jittered) and drawn 4-digit numbers, thin and thick pen."""
    out = {}
    for pen_name, pen in (("thin", 0.04), ("thick", 0.14)):
        singles = {}
        for key, strokes in STROKES.items():
            reads = [engine.read_number(model, draw(strokes, 100, pen * 100, rng)).text for _ in range(per_case)]
            singles[key] = sum(r == str(stroke_label(key)) for r in reads) / per_case
        out[pen_name] = {"singles": singles, "numbers": score(model, stroke_numbers(rng, 5 * per_case, pen))}
    return out


# ---------- choosing the reader's settings on training digits ----------


def _owned(pg, c: Composed, glyph, n: int) -> np.ndarray:
    """How many of the glyph's ink pixels each of the n digits drew."""
    f, (ox, oy) = pg.factor, pg.origin
    x0, y0, x1, y1 = glyph.box
    mine = reader._glyph_pixels(pg, glyph)
    ys, xs = np.nonzero(mine)
    own = c.owner[
        np.minimum(oy + (y0 + ys) * f, c.owner.shape[0] - 1), np.minimum(ox + (x0 + xs) * f, c.owner.shape[1] - 1)
    ]
    return np.bincount(own[own >= 0], minlength=n)[:n]


def split_examples(model, samples) -> list[tuple[np.ndarray, np.ndarray]]:
    """For every group of every number: the features of reading it whole and of each of its cuts
    (rows of F), and which of them read right (ok). Groups of one digit should stay whole, groups of
    two (pressed together) be cut where both pieces read right; others are left out."""
    examples = []
    classify = reader.model_classifier(model)
    for c, text in samples:
        pg = reader.page(c.image)
        n = len(text)
        total = np.zeros(n, np.int64)
        for g in pg.order:
            total += _owned(pg, c, reader._glyph(pg, [(g, int(pg.boxes[g, 0]), int(pg.boxes[g, 2]))]), n)
        for g in pg.order:
            whole = reader._glyph(pg, [(g, int(pg.boxes[g, 0]), int(pg.boxes[g, 2]))])
            pairs = reader._splits(pg, whole, reader._grid(*reader._cut_range(pg, whole), FIT_STEP * pg.height))
            logits = classify(pg, [whole] + [piece for pair in pairs for piece in pair])
            owned = _owned(pg, c, whole, n)
            inside = np.flatnonzero(owned >= 0.15 * np.maximum(total, 1))
            F = [reader.glyph_features(pg, whole, logits[0])]
            F += [
                reader.glyph_features(pg, a, la) + reader.glyph_features(pg, b, lb)
                for (a, b), la, lb in zip(pairs, logits[1::2], logits[2::2])
            ]
            labels = logits[:, :10].argmax(axis=1)
            if len(inside) == 1:
                ok = [labels[0] == int(text[inside[0]])] + [False] * len(pairs)
            elif len(inside) == 2 and inside[1] == inside[0] + 1:
                want = (int(text[inside[0]]), int(text[inside[1]]))
                ok = [False] + [(labels[1 + 2 * j], labels[2 + 2 * j]) == want for j in range(len(pairs))]
            else:
                continue
            if any(ok):
                examples.append((np.array(F), np.array(ok)))
        examples += _merge_examples(pg, c, text, classify, total)
    return examples


def _merge_examples(pg, c: Composed, text: str, classify, total: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each run of groups the reader could merge: read apart or merged, and which is right."""
    out = []
    for s, e, merged in reader._merges(pg):
        if e == s:
            continue
        apart = [reader._glyph(pg, [part]) for part in merged.parts]
        logits = classify(pg, [merged, *apart])
        owners = [int(np.argmax(_owned(pg, c, g, len(text)))) for g in apart]
        labels = logits[:, :10].argmax(axis=1)
        F = np.array(
            [
                sum(reader.glyph_features(pg, g, lg) for g, lg in zip(apart, logits[1:])),
                reader.glyph_features(pg, merged, logits[0]),
            ]
        )
        if len(set(owners)) == 1:
            ok = [False, labels[0] == int(text[owners[0]])]
        elif owners == sorted(set(owners)):
            ok = [all(labels[1 + k] == int(text[o]) for k, o in enumerate(owners)), False]
        else:
            continue
        if any(ok):
            out.append((F, np.array(ok)))
    return out


def fit_priors(examples, multi_weight: float = 1.5, l2: float = 0.01, steps: int = 3000) -> reader.Priors:
    """Maximum likelihood of the right choice among each group's options (a conditional logit: the
    options' scores through a softmax), groups of two digits weighted ``multi_weight``, with a small
    L2 penalty; Adam. ``is_digit`` has no data with a ten-output model and then gets ``log_prob``'s weight."""
    F = np.concatenate([f for f, _ in examples])
    ok = np.concatenate([o for _, o in examples]).astype(np.float64)
    sizes = np.array([len(o) for _, o in examples])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group = np.repeat(np.arange(len(examples)), sizes)
    weight = np.where(ok[starts] > 0, 1.0, multi_weight)[group]
    names = [f.name for f in fields(reader.Priors)]
    w = np.zeros(len(names))
    w[names.index("log_prob")] = 1.0  # from a fixed start, so a refit gives the same weights
    m, v = np.zeros_like(w), np.zeros_like(w)
    for step in range(1, steps + 1):
        s = F @ w
        s -= np.maximum.reduceat(s, starts)[group]
        p = np.exp(s)
        p /= np.add.reduceat(p, starts)[group]
        q = p * ok
        q /= np.add.reduceat(q, starts)[group]
        grad = F.T @ (weight * (q - p)) / len(examples) - l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w += 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    fitted = dict(zip(names, (round(float(x), 2) for x in w)))
    if not F[:, names.index("is_digit")].any():  # a ten-output model: no "not a digit" evidence
        fitted["is_digit"] = fitted["log_prob"]
    return reader.Priors(**fitted)


def write_priors(priors: reader.Priors, path=ROOT / "engine" / "number_reader.py") -> None:
    """Put fitted weights into the defaults of ``Priors`` in number_reader.py (``--fit --write``)."""
    text = path.read_text()
    for f in fields(priors):
        text, count = re.subn(
            rf"^(    {f.name}: float = )-?[0-9.]+", rf"\g<1>{getattr(priors, f.name)}", text, count=1, flags=re.M
        )
        if count != 1:
            raise SystemExit(f"{path}: no default for Priors.{f.name} to replace")
    path.write_text(text)


def shape_statistics(images: np.ndarray, labels: np.ndarray) -> dict[str, list[float]]:
    """Per class, mean and spread of log(width / height) and of log(ink / (stroke width x height)) of the
    ink box (pixels > 0.2): number_reader's ASPECT_* and INK_* tables."""
    out: dict[str, list[float]] = {"ASPECT_MEAN": [], "ASPECT_SPREAD": [], "INK_MEAN": [], "INK_SPREAD": []}
    for digit in range(10):
        aspects, lengths = [], []
        for img in images[labels == digit]:
            x = img.astype(np.float32) / 255
            ink = x > 0.2
            rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
            h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
            aspects.append(np.log(w / h))
            lengths.append(np.log(ink.sum() / (stroke_width(x) * h)))
        for name, values in (("ASPECT", aspects), ("INK", lengths)):
            out[name + "_MEAN"].append(round(float(np.mean(values)), 2))
            out[name + "_SPREAD"].append(round(float(np.std(values)), 2))
    return out


def reject_threshold(model, samples, keep: float = 0.995) -> float:
    """The top probability below which only 1 - ``keep`` of the rightly read glyphs fall (numbers read
    right without rejection): the fallback REJECT_THRESHOLD for models without their own rule."""
    tops = []
    for c, text in samples:
        reading = engine.read_number(model, c.image, reject=False)
        if reading.text == text:
            tops += [d.confidence for d in reading.digits]
    return float(np.quantile(tops, 1 - keep))


def number_reject(model, samples, keep: float = 0.995) -> float:
    """The "not a digit" probability that only 1 - ``keep`` of the rightly read glyphs of numbers
    (read right without rejection) reach: number_reader.NUMBER_REJECT, for a model with that output."""
    classify = reader.model_classifier(model)
    not_digit = []
    for c, text in samples:
        pg = reader.page(c.image)
        glyphs = reader.read_glyphs(pg, classify)
        logits = np.stack([lg for _, lg in glyphs]).astype(np.float64)
        if logits.shape[1] > 10 and "".join(str(int(lg[:10].argmax())) for lg in logits) == text:
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            not_digit += list(p[:, 10] / p.sum(axis=1))
    return float(np.quantile(not_digit, keep)) if not_digit else float("nan")


# ---------- the report ----------


def run(model, mnist, count: int = 1000, strokes: int = 20, timing: int = 30, hostile: bool = True) -> dict:
    """Every figure of the report, on MNIST test digits."""
    test_x, test_y = mnist["test_images"], mnist["test_labels"]
    result: dict = {"numbers": {}}
    for touch in (0.0, 0.1, 0.2, 0.5):
        rng = np.random.default_rng(1000 + int(touch * 100))
        result["numbers"][f"4 digits, {touch:.0%} touching"] = score(
            model, random_numbers(rng, test_x, test_y, count, [4], touch)
        )
    rng = np.random.default_rng(2000)
    result["numbers"]["3-8 digits, 20% touching"] = score(
        model, random_numbers(rng, test_x, test_y, count, range(3, 9), 0.2)
    )
    result["strokes"] = stroke_results(model, np.random.default_rng(3000), strokes)
    result["time_4_digits"] = time_four_digits(model, np.random.default_rng(4000), test_x, timing)
    if hostile:
        result["hostile_seconds"] = time_hostile(model)
    return result


def report(result: dict) -> list[str]:
    lines = []
    for name, r in result["numbers"].items():
        lines.append(
            f"{name}: whole numbers {r['whole']:.2%} ({r['whole_without_rejection']:.2%} without rejection), "
            f"digits {r['digits']:.2%} ({r['numbers']} numbers)"
        )
    for pen, s in result["strokes"].items():
        singles = ", ".join(f"{k} {v:.0%}" for k, v in s["singles"].items())
        lines.append(
            f"drawn, {pen} pen: single digits read right: {singles}; "
            f"4-digit numbers {s['numbers']['whole']:.2%} (digits {s['numbers']['digits']:.2%})"
        )
    t = result["time_4_digits"]
    lines.append(
        f"time per 4-digit number (800x200 canvas, 1 thread): median {t['median'] * 1000:.1f} ms, "
        f"p90 {t['p90'] * 1000:.1f} ms, {t['classified']:.1f} glyph images classified"
    )
    for name, s in result.get("hostile_seconds", {}).items():
        lines.append(f"hostile input {name}: {s:.2f} s")
    return lines


def markdown(result: dict) -> str:
    """The report as a table (bench/run_all.py puts it in results.md)."""
    lines = ["| numbers (MNIST test digits) | whole numbers | without rejection | digits |", "|---|---:|---:|---:|"]
    for name, r in result["numbers"].items():
        lines.append(
            f"| {name} ({r['numbers']}) | {r['whole']:.1%} | {r['whole_without_rejection']:.1%} | {r['digits']:.1%} |"
        )
    for pen, s in result["strokes"].items():
        r = s["numbers"]
        lines.append(
            f"| 4 digits drawn as strokes, {pen} pen ({r['numbers']}) | {r['whole']:.1%} | "
            f"{r['whole_without_rejection']:.1%} | {r['digits']:.1%} |"
        )
    t = result["time_4_digits"]
    lines.append(
        f"\nTime per 4-digit number (800x200 canvas, CPython, 1 thread): median {t['median'] * 1000:.1f} ms, "
        f"p90 {t['p90'] * 1000:.1f} ms, {t['classified']:.1f} glyph images classified."
    )
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numbers", type=int, default=1000, help="numbers per setting (1000)")
    ap.add_argument("--fit", action="store_true", help="fit number_reader.Priors on numbers from held-out digits")
    ap.add_argument("--write", action="store_true", help="with --fit: write the weights into number_reader.py")
    ap.add_argument("--validate", action="store_true", help="accuracy on held-out digits, reject thresholds")
    ap.add_argument("--model", default=str(ROOT / "models" / "mnist_int8.npz"), help="model file (the shipped one)")
    args = ap.parse_args()
    info = machine()
    print(f"Machine: {machine_line(info)}")
    mnist = load_mnist(log=lambda m: None)
    model = engine.load_model(args.model)
    train_x, train_y = mnist["train_images"], mnist["train_labels"]
    with engine_threads(1):
        if args.fit:
            fit_x, fit_y = held_out(mnist, "fit")
            samples = random_numbers(np.random.default_rng(1), fit_x, fit_y, args.numbers, [4], 0.3)
            examples = split_examples(model, samples)
            print(f"{len(examples)} groups from {len(samples)} numbers of held-out digits")
            priors = fit_priors(examples)
            print(priors)
            if args.write:
                write_priors(priors)
                print("written to engine/number_reader.py")
            for name, values in shape_statistics(train_x, train_y).items():
                print(f"{name} = {values}")
            return
        if args.validate:
            train_x, train_y = held_out(mnist, "validate")
            for touch in (0.0, 0.2, 0.5):
                rng = np.random.default_rng(100 + int(touch * 10))
                r = score(model, random_numbers(rng, train_x, train_y, args.numbers, [4], touch))
                print(f"validation, 4 digits, {touch:.0%} touching: {r}")
            rng = np.random.default_rng(200)
            print(
                f"fallback reject threshold (keeps 99.5% of rightly read validation digits): "
                f"{reject_threshold(model, random_numbers(rng, train_x, train_y, args.numbers, [4], 0.2)):.3f}"
            )
            print(
                f"'not a digit' below which 99.5% of rightly read validation glyphs are (20% touching; NUMBER_REJECT "
                f"is {reader.NUMBER_REJECT}, chosen by whole-number accuracy on these digits): "
                f"{number_reject(model, random_numbers(rng, train_x, train_y, args.numbers, [4], 0.2)):.3f}"
            )
            return
        result = run(model, mnist, args.numbers)
    for line in report(result):
        print(line)
    save_json("number_bench", {"machine": info, **result})


if __name__ == "__main__":
    main()
