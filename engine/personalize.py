"""Teach a shipped int8 model one person's handwriting: ``personalize(model, images, labels)``.

How (each choice measured by ``bench/personalize_bench.py``, on the 10-output CNN shipped before
the 11-output one; that one loses at most 0.13 MNIST points with the defaults):
1. Every layer below the Dense head stays exactly as it is (int8, same scales). Those layers
   compute general stroke features; leaving them alone is what keeps everyone else's digits
   read as before. Retraining the last Conv2D as well cut the writers' errors no further
   and cost MNIST 0.2-0.7 points.
2. The training set: the user's examples, each also warped ``copies`` times (small
   rotations, zooms, shears and shifts), and ``replay_count`` images of a replay set of
   MNIST training digits (``engine/replay.npz``, made by ``scripts/make_replay.py``), so
   the head learns the new style without forgetting the old ones (without the replay the
   slashed zeros stayed misread). A model with an 11th output ("not a digit") also replays
   the set's negatives, which keeps that output meaningful; a 10-output model skips them.
   Besides those, ``confusion_replay`` more replay images of the digits the shipped model
   reads the (unwarped) examples as, where it misreads them (long-flag 1s read as 7 bring
   7s): the head then moves the boundary between the two instead of pulling every 7 over.
3. The frozen layers run once per training image, as the int8 model runs them, so the head
   trains on exactly the features it will read when it predicts, and an epoch costs little.
4. The head (dequantized: ``float_copy``) trains by Adam, no weight decay, with an L2 pull
   back towards the shipped weights (``anchor``, "L2-SP"), for at most ``epochs`` passes,
   stopping early once every user image (warped ones too) and 99% of the replay are read
   right. Without the pull the fixes were the same but MNIST lost 0.12-0.27 points; with it
   0.05-0.14. (Distilling the shipped head's probabilities on the replay did not help.)
   Measured on the 11-output model (bench, rng seeds 0-3, worst MNIST change of the four
   writers): anchor 0.3 and no confusion replay: whole stroke-file writer 2.5% -> 2.5% on
   every seed, synthetic long-flag writer 74% -> 29%, MNIST -0.22; anchor 0.1 alone: whole
   writer 1.25% on every seed but MNIST up to -0.37; anchor 0.1 with 50 confusion replays
   (the defaults): whole writer 2.5% -> 1.25% on every seed, slashed 0s fixed on every seed,
   synthetic writer 27%, MNIST at worst -0.16; 0.71 s of CPU in CPython, 5.6 s in the page.
   Fitting the examples harder buys the same fixes at a higher MNIST price: copies 8
   (MNIST -0.27), copies 16 (-0.61, and 5% of the writer's 7s read as 1), epochs 24.
   What no recipe here fixes: the stroke-file long-flag 1 that reads as 7 (its test sample
   7). Its frozen features are nearer MNIST 7s (cosine 0.94) than any MNIST 1 (0.79); even
   taught that very drawing, the head reads it as 1 only with no anchor, and then 19 MNIST
   7s read as 1. Copies 8/16, epochs 16/24, lr 5e-3, anchor 0.1-1.0, replay 150/450 and
   thinner-stroke warps left it a 7, and so did training the last Conv2D too (a float probe,
   Adam lr 1e-4 to 1e-3 with the same anchor): the synthetic writer improved (29% -> 9%)
   but its 7s went 0% -> 15% wrong and MNIST lost 0.3 points.
5. The head's weights are quantized again (per output channel, as ``quantize`` does). Its
   input scale stays: the layers below it did not change. Every other array is copied bit
   for bit and the architecture (inference path, calibration, "not a digit" rule) is kept.

Same bits in CPython and in the page: the frozen layers are exact integer arithmetic on
both (``layers/quantized.py``), and everything after them (warps, head, loss, Adam) uses
only correctly rounded elementwise operations in a fixed order (``fixed_order.py``) and
draws every random number from ``rng`` in a fixed order.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from . import fixed_order
from .augment import bilinear_sample
from .errors import InputShapeError
from .float_copy import dequantized_layer
from .images import as_image_batch, numeric_array
from .layers.quantized import QuantizedDense
from .quantized_model import QuantizedModel
from .rejection import DIGITS, NOT_A_DIGIT

__all__ = ["PersonalizeOptions", "Progress", "personalize", "personalize_steps", "load_replay", "DEFAULT_REPLAY"]

# Part of the engine (scripts/make_replay.py writes it), so the default works in CPython and in the page.
DEFAULT_REPLAY = Path(__file__).resolve().with_name("replay.npz")
MAX_EXAMPLES = 10_000
EVAL_CHUNK = 256  # images per fixed-order forward pass when checking for early stopping
# personalize_steps' pieces, measured in the page (Pyodide in headless Chromium, 2-core EPYC, busy):
FEATURE_CHUNK = 4  # training images per forward pass of the frozen layers (8 took 40-90 ms, 4 takes 20-45)
BATCHES_PER_STEP = 4  # mini-batches of the head per piece (under 40 ms)


@dataclass(frozen=True)
class PersonalizeOptions:
    copies: int = 4  # warped copies of each user example, besides the example itself
    max_user_images: int = 600  # fewer copies when the examples and their copies would exceed this (time bound)
    replay_count: int = 300  # replay images mixed in (at most what the replay set holds)
    epochs: int = 8  # passes over the training set, at most
    batch_size: int = 64  # images per optimizer step
    lr: float = 2e-3  # Adam's learning rate (constant)
    label_smoothing: float = 0.05  # as the shipped model was trained
    rotation_deg: float = 10.0  # warps of the user's examples: rotation in [-r, r] degrees,
    shear_deg: float = 8.0  # shear in [-s, s] degrees,
    zoom: float = 0.1  # zoom in [1 - z, 1 + z],
    shift_px: float = 2.0  # shift in [-s, s] pixels per axis
    early_stop: bool = True  # stop once every user image and 99% of the replay are read right
    anchor: float = 0.1  # L2 pull of the head's weights back to the shipped ones, added to their gradient
    confusion_replay: int = 50  # more replay images of the digits the shipped model misreads the examples as


def personalize(model, images, labels, *, rng=None, replay=None, **options) -> QuantizedModel:
    """A copy of int8 ``model`` fine-tuned on one writer's examples; ``model`` is not changed.

    ``images``: (N, 28, 28) as ``engine.preprocess`` returns them (float in [0, 1]) or uint8
    0..255; ``labels``: (N,) whole numbers 0..9 (or 10, "not a digit", for a model with that
    output). ``rng``: a ``np.random.Generator`` (default ``default_rng(0)``); the same generator
    state gives the same model, bit for bit, in CPython and in Pyodide. ``replay``:
    ``(images, labels)`` or a file's path to replay instead of ``engine/replay.npz``, or ``False`` for none.
    ``options``: fields of ``PersonalizeOptions``. Returns a ``QuantizedModel`` with the same
    architecture, file format, preprocessing and "not a digit" rule, ready for ``save_model``.
    Bad arguments raise ``InputShapeError`` (images, labels) or ``ValueError``/``TypeError``
    naming what is wrong.

    It is ``personalize_steps`` run to its end: the same work, the same random draws, the same bits.
    """
    steps = personalize_steps(model, images, labels, rng=rng, replay=replay, **options)
    while True:
        try:
            next(steps)
        except StopIteration as finished:
            return finished.value


@dataclass(frozen=True)
class Progress:
    """What ``personalize_steps`` yields after each piece of work."""

    done: int  # pieces of work finished so far
    total: int  # pieces in all (an upper bound: early stopping or a small replay set makes the last piece jump ``done`` to ``total``)
    stage: str  # "preparing" (replay, warps), "features" (the frozen layers), "training" (the head), "quantizing"


def personalize_steps(
    model, images, labels, *, rng=None, replay=None, **options
) -> Generator[Progress, None, QuantizedModel]:
    """``personalize`` in bounded pieces: a generator that yields a ``Progress`` after each piece
    and returns the personal model (``StopIteration.value``); stop calling it to cancel.

    A piece is drawing the replay, one warped copy of the examples, the frozen layers' forward
    pass over ``FEATURE_CHUNK`` training images, ``BATCHES_PER_STEP`` of the head's mini-batches,
    one early-stopping check, or the final quantization, so a caller on a UI thread (the page)
    can yield to the browser between pieces. The arguments are ``personalize``'s, checked here,
    before any piece runs. Running every piece gives ``personalize``'s model bit for bit.
    """
    if not isinstance(model, QuantizedModel):
        raise TypeError(
            f"personalize takes an int8 model (engine.load_model of an int8 file), got {type(model).__name__}"
        )
    opts = _options(options)
    if rng is None:
        rng = np.random.default_rng(0)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    head_index, head_layer = _head(model)
    outputs = int(head_layer.stored["b"].shape[0])
    x_user, y_user = _examples(images, labels, outputs)
    return _steps(model, head_index, x_user, y_user, rng, replay, opts)


def _steps(model, head_index: int, x_user, y_user, rng, replay, opts) -> Generator[Progress, None, QuantizedModel]:
    """The pieces of ``personalize_steps`` on checked arguments."""
    head_layer = model.layers[head_index]
    outputs = int(head_layer.stored["b"].shape[0])
    copies = min(opts.copies, max(0, (opts.max_user_images - len(y_user)) // len(y_user)))
    n_user = len(y_user) * (1 + copies)
    n_replay = min(opts.replay_count, MAX_EXAMPLES) + min(opts.confusion_replay, MAX_EXAMPLES)
    n_all = n_user + n_replay  # at most; the replay set may hold fewer
    batches = math.ceil(n_all / opts.batch_size)
    train_pieces = math.ceil(batches / BATCHES_PER_STEP) + (1 if opts.early_stop else 0)
    total = copies + math.ceil(n_user / FEATURE_CHUNK) + 1 + math.ceil(n_replay / FEATURE_CHUNK)
    total += opts.epochs * train_pieces + 1
    done = 0

    # The user's examples, each with its warped copies.
    parts_x, parts_y = [x_user], [y_user]
    for _ in range(copies):
        parts_x.append(warp(x_user, rng, opts))
        parts_y.append(y_user)
        done += 1
        yield Progress(done, total, "preparing")

    # The frozen layers run once per image, as the int8 model runs them (exact integer
    # arithmetic: a chunk's rows are the bits the whole batch would give): (M, 256) features.
    def frozen(x):
        for a in range(0, len(x), FEATURE_CHUNK):
            h = x[a : a + FEATURE_CHUNK]
            h = h.reshape((len(h),) + model.input_shape)
            for layer in model.layers[:head_index]:
                h = layer.forward(h)
            yield h.reshape(len(h), -1)

    chunks = []
    for h in frozen(np.concatenate(parts_x).astype(np.float32, copy=False)):
        chunks.append(h)
        done += 1
        yield Progress(done, total, "features")

    # The digits the shipped model reads the (unwarped) examples as where it misreads them:
    # the replay brings more of those, so the head moves the boundary between the two
    # instead of pulling the whole class over.
    read = head_layer.forward(np.concatenate(chunks)[: len(y_user)])[:, :DIGITS].argmax(axis=1)
    confused = np.unique(read[read != y_user])
    x_replay, y_replay = _replay(replay, outputs, opts.replay_count, rng, confused, opts.confusion_replay)
    done += 1
    yield Progress(done, total, "preparing")
    for h in frozen(x_replay.astype(np.float32, copy=False)):
        chunks.append(h)
        done += 1
        yield Progress(done, total, "features")
    features = np.concatenate(chunks).astype(np.float64)
    y_all = np.concatenate(parts_y + [y_replay]).astype(np.int64)

    trainer = _train_head(dequantized_layer(head_layer), features, y_all, n_user, opts, rng)
    while True:
        try:
            next(trainer)
        except StopIteration as trained:
            w, b = trained.value
            break
        done += 1
        yield Progress(done, total, "training")
    result = _with_head(model, head_index, w, b, len(y_user))
    yield Progress(total, total, "quantizing")
    return result


def warp(images: np.ndarray, rng: np.random.Generator, opts: PersonalizeOptions | None = None) -> np.ndarray:
    """Each image (N,28,28) float32 under its own small affine warp (rotation, zoom, shear, shift).

    The math of ``augment.Augmenter`` with the trigonometry done by ``fixed_order`` so the
    pixels are the same bits on every platform; draws 5 numbers per image from ``rng``."""
    o = opts or PersonalizeOptions()
    n, h, w = images.shape
    if n == 0:
        return images.copy()
    to_rad = math.pi / 180.0
    angle = np.asarray(rng.uniform(-o.rotation_deg, o.rotation_deg, n)) * to_rad
    shear = np.asarray(rng.uniform(-o.shear_deg, o.shear_deg, n)) * to_rad
    zoom = rng.uniform(1.0 - o.zoom, 1.0 + o.zoom, n)
    shift = rng.uniform(-o.shift_px, o.shift_px, (n, 2))
    sin, cos = fixed_order.sin_cos(angle)
    shear_sin, shear_cos = fixed_order.sin_cos(shear)
    cos, sin, tan = cos / zoom, sin / zoom, shear_sin / shear_cos
    cy, cx = (h - 1) / 2, (w - 1) / 2
    gy = (np.arange(h, dtype=np.float64) - cy)[None, :, None] - shift[:, 0, None, None]  # (N, H, 1)
    gx = (np.arange(w, dtype=np.float64) - cx)[None, None, :] - shift[:, 1, None, None]  # (N, 1, W)
    c, s, t = cos[:, None, None], sin[:, None, None], tan[:, None, None]
    src_y = c * gy - s * gx + cy
    src_x = s * gy + c * gx + t * gy + cx
    return bilinear_sample(images, src_y.astype(np.float32), src_x.astype(np.float32)).astype(np.float32)


# -- the pieces ---------------------------------------------------------------------------

WHOLE_OPTIONS = ("copies", "max_user_images", "replay_count", "confusion_replay", "epochs", "batch_size")
REAL_OPTIONS = ("lr", "label_smoothing", "rotation_deg", "shear_deg", "zoom", "shift_px", "anchor")


def _options(options: dict) -> PersonalizeOptions:
    known = [f.name for f in fields(PersonalizeOptions)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise TypeError(f"personalize got unknown option(s) {unknown}; known options: {known}")
    opts = replace(PersonalizeOptions(), **options)
    for name in WHOLE_OPTIONS:
        value, least = getattr(opts, name), 0 if name in ("copies", "replay_count", "confusion_replay") else 1
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"option {name} must be a whole number >= {least}, got {value!r}")
    for name in REAL_OPTIONS:
        value = getattr(opts, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"option {name} must be a finite number >= 0, got {value!r}")
    if opts.label_smoothing >= 1 or opts.zoom >= 1 or opts.rotation_deg > 25 or opts.shear_deg > 25:
        raise ValueError("options label_smoothing and zoom must be below 1, rotation_deg and shear_deg at most 25")
    if not isinstance(opts.early_stop, bool):
        raise ValueError(f"option early_stop must be True or False, got {opts.early_stop!r}")
    return opts


def _head(model: QuantizedModel) -> tuple[int, QuantizedDense]:
    """(index, layer) of the model's last layer, which must be its int8 Dense head."""
    index = len(model.layers) - 1
    head = model.layers[index]
    if not isinstance(head, QuantizedDense):
        raise ValueError(f"personalize retrains the model's Dense head, but its last layer is {type(head).__name__}")
    return index, head


def _examples(images, labels, outputs: int) -> tuple[np.ndarray, np.ndarray]:
    """The user's examples checked: float32 (N,28,28) in [0,1] and int64 (N,) labels."""
    if np.ndim(images) != 3:
        raise InputShapeError(
            f"images must be a batch (N, 28, 28) of examples, got shape {np.shape(images)}; "
            "use engine.preprocess() on each drawing and stack them"
        )
    x = as_image_batch(images)
    if len(x) == 0:
        raise InputShapeError("no examples: personalize needs at least one image and its label")
    if len(x) > MAX_EXAMPLES:
        raise InputShapeError(f"{len(x)} examples; personalize takes at most {MAX_EXAMPLES}")
    allowed = "0..9" if outputs == DIGITS else "0..9, or 10 for 'not a digit'"
    y = numeric_array(labels, f"labels must be whole numbers {allowed}")
    if y.ndim != 1:
        raise InputShapeError(f"labels must be a 1-D array (N,), got shape {y.shape}")
    if len(y) != len(x):
        raise InputShapeError(f"{len(x)} images but {len(y)} labels; give one label per image")
    if y.dtype.kind == "b" or (y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all())):
        raise InputShapeError(f"labels must be whole numbers {allowed}, got {y[:5].tolist()}")
    out = (y < 0) | (y > outputs - 1)
    if out.any():
        raise InputShapeError(f"label {int(y[out][0])} is out of range; labels must be {allowed}")
    return x, y.astype(np.int64)


def load_replay(path=DEFAULT_REPLAY) -> tuple[np.ndarray, np.ndarray]:
    """The replay set's (images (R,28,28) uint8, labels (R,) int64); label 10 marks "not a digit"."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            images, labels = f["images"], f["labels"]
    except (OSError, KeyError, ValueError, EOFError) as exc:
        raise ValueError(
            f"{path}: cannot read the replay set ({exc}); rebuild it: python scripts/make_replay.py"
        ) from None
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{path}: images must be uint8 (R, 28, 28), got {images.dtype} {images.shape}")
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu" or not len(labels):
        raise ValueError(f"{path}: labels must be (R,) whole numbers, one per image")
    if labels.min() < 0 or labels.max() > NOT_A_DIGIT:
        raise ValueError(f"{path}: labels must be 0..9, or 10 for 'not a digit'")
    return images, labels.astype(np.int64)


def _replay(
    replay, outputs: int, count: int, rng: np.random.Generator, favoured=(), extra: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` replay images (float32) and labels drawn from the set without replacement, and up to
    ``extra`` more of the labels in ``favoured`` among the rest (the same random order, no more draws)."""
    if replay is False or (count == 0 and (extra == 0 or not len(favoured))):
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
    if replay is None:
        images, labels = load_replay()
    elif isinstance(replay, (str, Path)):
        images, labels = load_replay(replay)
    else:
        try:
            images, labels = replay
        except (TypeError, ValueError):
            raise TypeError("replay must be None, False, a path or an (images, labels) pair") from None
    x = as_image_batch(images)
    y = numeric_array(labels, "replay labels must be whole numbers")
    if y.shape != (len(x),) or y.dtype.kind not in "iu" or (len(y) and (y.min() < 0 or y.max() > NOT_A_DIGIT)):
        raise InputShapeError(f"replay needs one label 0..10 per image: {len(x)} images, labels of shape {y.shape}")
    keep = y < outputs  # a 10-output model cannot learn "not a digit"
    x, y = x[keep], y[keep].astype(np.int64)
    order = rng.permutation(len(y))
    rest = order[count:]
    more = rest[np.isin(y[rest], np.asarray(favoured, np.int64))][:extra]
    take = np.sort(np.concatenate([order[:count], more]))
    return x[take], y[take]


def _train_head(head, features: np.ndarray, labels: np.ndarray, n_user: int, opts, rng) -> Generator[None, None, tuple]:
    """Adam on the Dense head's (W, b) in float64, fixed-order arithmetic throughout; a generator that
    pauses after every ``BATCHES_PER_STEP`` mini-batches and after each early-stopping check, and
    returns (W, b) as float32."""
    w = head.params["W"].astype(np.float64)
    b = head.params["b"].astype(np.float64)
    w0 = w.copy()
    targets = fixed_order.smoothed_targets(labels, w.shape[1], opts.label_smoothing)
    moments = [np.zeros_like(w), np.zeros_like(b), np.zeros_like(w), np.zeros_like(b)]  # m_W, m_b, v_W, v_b
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    power1 = power2 = 1.0  # beta**t by repeated products: no pow(), whose last bit varies by platform
    steps = math.ceil(len(labels) / opts.batch_size)
    for _epoch in range(opts.epochs):
        order = rng.permutation(len(labels))
        for s in range(steps):
            idx = order[s * opts.batch_size : (s + 1) * opts.batch_size]
            x = features[idx]
            dy = fixed_order.soft_cross_entropy_grad(fixed_order.dense_forward(x, w, b), targets[idx])
            dw, db = fixed_order.dense_backward(x, dy)
            if opts.anchor:  # L2-SP: stay near the shipped weights, which read everyone else's digits
                dw += opts.anchor * (w - w0)
            power1, power2 = power1 * beta1, power2 * beta2
            for p, g, m, v in ((w, dw, moments[0], moments[2]), (b, db, moments[1], moments[3])):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * (g * g)
                p -= opts.lr * (m / (1 - power1)) / (np.sqrt(v / (1 - power2)) + eps)
            if (s + 1) % BATCHES_PER_STEP == 0 or s + 1 == steps:
                yield
        if opts.early_stop:
            stop = _reads_right(features, labels, w, b, n_user)
            yield
            if stop:
                break
    return w.astype(np.float32), b.astype(np.float32)


def _reads_right(features, labels, w, b, n_user: int) -> bool:
    """Every user image (warped ones too) and 99% of the replay read right by the head (w, b)."""
    right = np.concatenate(
        [
            fixed_order.dense_forward(features[a : a + EVAL_CHUNK], w, b).argmax(axis=1) == labels[a : a + EVAL_CHUNK]
            for a in range(0, len(labels), EVAL_CHUNK)
        ]
    )
    replay = right[n_user:]
    return bool(right[:n_user].all() and (replay.mean() >= 0.99 if len(replay) else True))


def _with_head(model: QuantizedModel, index: int, w: np.ndarray, b: np.ndarray, examples: int) -> QuantizedModel:
    """``model`` with its Dense head's weights replaced, quantized as ``quantize`` does."""
    int8_head = _head(model)[1]
    head = dequantized_layer(int8_head)
    head.params["W"][...] = w
    head.params["b"][...] = b
    x_scale = float(int8_head.stored["x_scale"])  # its input did not change
    arrays = dict(model.arrays)
    for name, value in QuantizedDense.quantized_arrays(head, x_scale).items():
        arrays[f"{index}.{name}"] = value
    card = dict(model.card)
    card["personalized"] = {"examples": int(examples), "base_model": model.card.get("name")}
    return QuantizedModel(dict(model.architecture), arrays, model.preprocessing, card)
