"""Handwriting styles MNIST barely has (issue 14): the stroke test set and the shipped model's floor on each style.

The samples are ``tests/strokes/styles/*.json`` (see tests/strokes/README.md), drawn the
way the page's pad draws them (``tests/stroke_files.py``) and preprocessed by
``engine.preprocess``. ``bench/style_bench.py`` prints the full table.

When a better model ships, raise its floors in ``FLOORS`` (and only raise them): each is a
little below what the shipped model measures, so an accidental regression on any style
fails here while a retrained model's noise of a sample or so does not.
"""

import importlib.util
import json
import re

import numpy as np
import pytest

import engine
import stroke_files
from stroke_files import INK_SIZE, PAD_PEN, STROKES_DIR, STYLES_DIR, Sample, StrokeFileError

SHIPPED_MODEL = STROKES_DIR.parents[1] / "models" / "mnist_int8.npz"
MIN_SAMPLES = 8

# Least share of each style's samples that the shipped model's predict() must read right,
# and "all" for the whole set. Measured on models/mnist_int8.npz (2026-12-03, the 11-output
# model trained with styles and negatives, slashed zeros and long flags drawn more ways;
# 16 samples a style): each floor allows one more miss than today's. The model of 2026-12-02
# read 98.6% (0-slashed 93.8%), the MNIST-only one before it 94.3% (1-long-flag 12.5%,
# 0-slashed 75%). Raise these when a better model ships.
FLOORS = {
    "all": 0.985,  # 98.9% now
    "0-plain": 0.93,  # 100.0%
    "0-slashed": 0.93,  # 100.0%
    "1-european": 0.93,  # 100.0%
    "1-flag-foot": 0.93,  # 100.0%
    "1-long-flag": 0.75,  # 81.2%: read as 7
    "1-plain": 0.93,  # 100.0%
    "2-looped": 0.93,  # 100.0%
    "2-plain": 0.93,  # 100.0%
    "3-flat-top": 0.93,  # 100.0%
    "3-round": 0.93,  # 100.0%
    "4-closed": 0.93,  # 100.0%
    "4-open": 0.93,  # 100.0%
    "5-one-stroke": 0.93,  # 100.0%
    "5-two-strokes": 0.93,  # 100.0%
    "6-plain": 0.87,  # 93.8%: read as 5
    "7-crossbar": 0.93,  # 100.0%
    "7-hooked": 0.93,  # 100.0%
    "7-plain": 0.93,  # 100.0%
    "8-plain": 0.93,  # 100.0%
    "8-two-circles": 0.93,  # 100.0%
    "8-wide": 0.93,  # 100.0%
    "9-curly": 0.93,  # 100.0%
    "9-straight": 0.93,  # 100.0%
}


@pytest.fixture(scope="module")
def styles() -> dict[str, list[Sample]]:
    return stroke_files.load_styles()


# ---------- the files ----------


def test_every_style_file_is_well_formed_with_enough_samples(styles):
    assert set(styles) == set(FLOORS) - {"all"}, "every style needs a floor in FLOORS, and every floor a style"
    for name, samples in styles.items():
        assert len(samples) >= MIN_SAMPLES, f"{name}: {len(samples)} samples, want at least {MIN_SAMPLES}"
        labels = {s.label for s in samples}
        assert len(labels) == 1 and labels <= set(range(10)), f"{name}: labels {labels}"
        assert int(name[0]) in labels, f"{name}: a style's name starts with its digit"
        for s in samples:
            assert all(len(stroke) >= 2 for stroke in s.strokes), f"{name}[{s.index}]: a stroke of one point"
    assert {s[0].label for s in styles.values()} == set(range(10)), "every digit has at least one style"


def test_samples_are_all_different(styles):
    """No two samples of a style alike (strokes, points, pen), and each style from small to nearly the whole pad."""
    for name, samples in styles.items():
        shapes = {(len(s.strokes), sum(len(st) for st in s.strokes), s.pen) for s in samples}
        assert len(shapes) == len(samples), f"{name}: repeated samples"
        sides = [int(np.ptp(np.concatenate(s.strokes), axis=0).max()) for s in map(_arrays, samples)]
        assert min(sides) < 0.3 * INK_SIZE < 0.75 * INK_SIZE < max(sides), f"{name}: small to large, not {sides}"


def _arrays(s: Sample) -> Sample:
    return Sample(s.style, s.label, [np.asarray(p) for p in s.strokes], s.pad, s.pen, s.index)


def test_committed_files_are_what_the_generator_writes():
    """The JSON is make_styles.py's output, not edited by hand (rerun the script after changing it)."""
    spec = importlib.util.spec_from_file_location("make_styles", STROKES_DIR / "make_styles.py")
    assert spec and spec.loader
    make_styles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_styles)
    for k, name in enumerate(make_styles.STYLES):
        doc = make_styles.make_style(name, np.random.default_rng([make_styles.SEED, k]))
        assert (STYLES_DIR / f"{name}.json").read_text() == make_styles.dumps(doc), name


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(label=10), "label"),
        (lambda d: d.update(style="other"), "style"),
        (lambda d: d["samples"][0]["strokes"][0].append([300, 10]), "strokes[0]"),
        (lambda d: d["samples"][0].update(strokes=[]), "strokes"),
        (lambda d: d["samples"][0].update(pen=-1), "pen"),
        (lambda d: d["samples"][0].update(label=3), "samples[0]"),
    ],
)
def test_a_broken_file_is_refused_with_its_name_and_field(tmp_path, change, message):
    doc = json.loads((STYLES_DIR / "7-plain.json").read_text())
    change(doc)
    bad = tmp_path / "7-plain.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(StrokeFileError, match=re.escape(message)) as err:
        stroke_files.load_style(bad)
    assert str(bad) in str(err.value)


# ---------- the renderer ----------


def _sample(strokes, pen=PAD_PEN) -> Sample:
    return Sample("test", 1, strokes, INK_SIZE, pen, 0)


def test_renderer_draws_a_round_pen_of_the_pads_width():
    dot = stroke_files.ink_canvas(_sample([[[100, 100]]]))
    assert abs((dot > 127).sum() - np.pi * (PAD_PEN / 2) ** 2) < 0.05 * np.pi * (PAD_PEN / 2) ** 2
    line = stroke_files.ink_canvas(_sample([[[60, 140], [120, 140], [200, 140]]]))
    column = line[:, 130] > 127
    assert abs(int(column.sum()) - PAD_PEN) <= 1, "a horizontal line is one pen wide"
    assert line[140, 60 - 10] > 200 and line[140, 60 - 12] == 0, "round caps: half a pen past the ends"


def test_render_crops_to_the_pads_ink_box_and_keeps_all_ink(styles):
    s = styles["4-open"][0]
    whole = stroke_files.ink_canvas(s)
    crop = stroke_files.render(s)
    assert crop.dtype == np.uint8 and int(crop.sum()) == int(whole.sum())
    x, y, w, h = stroke_files.ink_box(s)
    assert crop.shape == (h, w)
    assert engine.preprocess(crop).shape == (28, 28)


def test_live_drawing_paints_over_itself_like_the_pad():
    """While the pen moves the pad repaints the newest pieces over each other: soft edges build up."""
    s = _sample([[[40 + 3 * i, 100 + i] for i in range(50)]])
    live, once = stroke_files.ink_canvas(s, live=True), stroke_files.ink_canvas(s, live=False)
    assert (live > 0).sum() == pytest.approx((once > 0).sum(), rel=0.02)
    assert int(live.astype(int).sum()) > int(once.astype(int).sum())


# ---------- the shipped model on each style ----------


def accuracies(model, styles: dict[str, list[Sample]], pen=None, reject: bool = False) -> dict[str, float]:
    """{style: share read right by predict(..., reject=reject), "all": over every sample}; drawn with
    ``pen`` as ``stroke_files.pen_for`` takes it (a refused sample counts as wrong)."""
    samples = [s for group in styles.values() for s in group]
    labels = np.array([s.label for s in samples])
    names = np.array([s.style for s in samples])
    right = model.predict(stroke_files.inputs(samples, pen=pen), reject=reject) == labels
    return {"all": float(right.mean()), **{name: float(right[names == name].mean()) for name in styles}}


def test_shipped_model_reads_every_style_at_least_its_floor(styles):
    measured = accuracies(engine.load_model(SHIPPED_MODEL), styles)
    below = {k: f"{measured[k]:.1%} < floor {floor:.0%}" for k, floor in FLOORS.items() if measured[k] < floor}
    assert not below, f"styles read worse than their floor: {below} (python bench/style_bench.py for the table)"


# The same with predict(reject=True), as the page reads (a refused digit counts as wrong), drawn with
# the page's ink pen (style_bench --ink-pen). 2026-12-03: 98.6% in all, slashed zeros 93.8% (one
# refused); the model of 2026-12-02 refused 9 of the 16 slashed zeros (43.8%) and read 96.5% in all.
REJECT_FLOORS = {"all": 0.982, "0-slashed": 0.87, "0-plain": 0.93, "1-long-flag": 0.75}


def test_shipped_model_keeps_the_styles_as_digits_when_it_may_refuse(styles):
    measured = accuracies(engine.load_model(SHIPPED_MODEL), styles, pen=stroke_files.ink_pen, reject=True)
    below = {k: f"{measured[k]:.1%} < {floor:.0%}" for k, floor in REJECT_FLOORS.items() if measured[k] < floor}
    assert not below, f"styles refused or misread (reject=True): {below} (python bench/style_bench.py --ink-pen)"


def test_the_ink_pen_follows_the_glyphs_height_as_the_page_draws_the_models_input(styles):
    """``inputs(pen=ink_pen)`` (style_bench --ink-pen) draws each sample with web/ink_pen.js's pen, not the pad's."""
    by_height = sorted(
        (s for group in styles.values() for s in group), key=lambda s: np.ptp(np.concatenate(s.strokes)[:, 1])
    )
    small, large = by_height[0], by_height[-1]
    assert stroke_files.ink_pen(small) < stroke_files.ink_pen(large), "a taller glyph gets a thicker pen"
    assert stroke_files.ink_pen(small) < PAD_PEN < stroke_files.ink_pen(large)
    pad_pen, ink_pen = stroke_files.inputs([small], pen=PAD_PEN), stroke_files.inputs([small], pen=stroke_files.ink_pen)
    assert (ink_pen > 0.5).sum() < (pad_pen > 0.5).sum(), "a small digit is not drawn as a blob"
    assert np.array_equal(ink_pen[0], engine.preprocess(stroke_files.render(small, pen=stroke_files.ink_pen(small))))
