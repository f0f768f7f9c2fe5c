"""engine.read_number: whole numbers from any grayscale image, left to right, in input coordinates."""

import sys
import time
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import number_reader as reader
from engine.components import label_components

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import number_bench  # noqa: E402  (the composers the benchmark measures with)

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@pytest.fixture(scope="module")
def model():
    return engine.load_model(ROOT / "models" / "mnist_int8.npz")


@pytest.fixture(scope="module")
def test_digits(mnist):
    """MNIST test digits cropped to their ink, with their labels."""
    return number_bench.ink_crops(mnist["test_images"][:300]), mnist["test_labels"][:300]


def first_of_each(labels, digits):
    return [int(np.flatnonzero(labels == d)[0]) for d in digits]


def pieces(img) -> int:
    return label_components(np.asarray(img) > 0.2 * float(np.max(img))).count


# ---------- reading ----------


def test_a_single_digit_reads_as_its_label(model, mnist):
    """Each class's first MNIST test digit, as the 28x28 image and on a bigger canvas."""
    images, labels = mnist["test_images"], mnist["test_labels"]
    for digit, i in enumerate(first_of_each(labels, range(10))):
        reading = engine.read_number(model, images[i])
        assert reading.text == str(digit) and len(reading.digits) == 1
        assert reading.digits[0].label == digit and 0.5 < reading.digits[0].confidence <= 1.0
        big = np.zeros((300, 500), np.uint8)
        big[40 : 40 + 28 * 8, 100 : 100 + 28 * 8] = np.kron(images[i], np.ones((8, 8), np.uint8))
        assert engine.read_number(model, big).text == str(digit)


def test_a_number_of_spaced_test_digits(model, test_digits):
    crops, labels = test_digits
    idx = first_of_each(labels, [2, 0, 2, 6])
    composed = number_bench.compose(np.random.default_rng(0), [crops[i] for i in idx], 0.0, 40, slant=0.0)
    reading = engine.read_number(model, composed.image)
    assert reading.text == "2026"
    assert [d.label for d in reading.digits] == [2, 0, 2, 6]


def test_boxes_are_in_input_pixels_and_left_to_right(model, test_digits):
    """On a canvas large enough to be worked on at a reduced resolution, each box is the digit's
    ink box within a few pixels."""
    crops, labels = test_digits
    idx = first_of_each(labels, [4, 7, 1, 9])
    composed = number_bench.compose(np.random.default_rng(1), [crops[i] for i in idx], 0.0, 200, slant=0.0)
    assert max(composed.image.shape) > 2 * reader.WORK_HEIGHT
    reading = engine.read_number(model, composed.image)
    assert reading.text == "4719"
    for got, want in zip([d.box for d in reading.digits], composed.boxes):
        assert all(isinstance(v, int) for v in got)
        assert np.abs(np.array(got) - np.array(want)).max() <= 6, (got, want)
    x0s = [d.box[0] for d in reading.digits]
    assert x0s == sorted(x0s)


def test_digits_smaller_than_mnists_box_are_not_refused(model, test_digits):
    """Shrunk below MNIST's 20-pixel box a digit loses its saturated core; the model then called 37%
    of them "not a digit" though it read them right. 100 test digits 16 px tall, each alone: 45
    refused without brightening, 12 with it."""
    crops, labels = test_digits
    refused = right = 0
    for crop, label in zip(crops[:100], labels[:100]):
        text = engine.read_number(model, np.pad(number_bench.scaled(crop, 16), 8)).text
        refused += text == "?"
        right += text == str(label)
    assert refused <= 20 and right >= 80, (refused, right)


def test_images_like_mnists_are_not_brightened(mnist):
    images = mnist["test_images"][:100].astype(np.float32) / 255
    unchanged = sum(np.array_equal(reader.saturated(x), x) for x in images)
    assert unchanged >= 90
    dim = images[0] * np.float32(0.6)
    bright = reader.saturated(dim)
    ink = bright[dim > 0.2]
    assert np.mean(ink >= reader.FULL_INK) >= reader.SATURATED - 0.01 and np.all(bright >= dim)


def test_touching_digits_are_cut_apart(model, test_digits):
    """Neighbours pushed together until their ink overlaps: one piece of ink, read as two digits.
    (Fixed examples; bench/number_bench.py measures how often this works.)"""
    crops, labels = test_digits
    for pair, seed in (((4, 2), 1), ((9, 0), 2), ((1, 7), 0), ((0, 3), 0), ((8, 6), 0)):
        idx = first_of_each(labels, pair)
        composed = number_bench.compose(np.random.default_rng(seed), [crops[i] for i in idx], 1.0, 40)
        assert pieces(composed.image) == 1
        assert engine.read_number(model, composed.image).text == "".join(map(str, pair))


def test_a_digit_in_several_pieces_reads_as_one(model, mnist):
    """A drawn 5 with a floating top bar, a 7 whose crossbar stops short of the stem, a 4 of three
    strokes, and an MNIST 5 with a column erased across its top bar."""
    for key in ("5:", "7:", "4:"):
        for pen in (4, 12):
            img = number_bench.draw(number_bench.STROKES[key], 100, pen)
            assert pieces(img) > 1 or pen > 4, key  # a thick pen joins the pieces
            assert engine.read_number(model, img).text == key[0], (key, pen)
    images, labels = mnist["test_images"], mnist["test_labels"]
    five = images[first_of_each(labels, [5])[0]].copy()
    top = np.flatnonzero((five > 50).any(axis=1))[0]
    for col in range(10, 20):
        broken = five.copy()
        broken[:, col] = 0
        if pieces(broken) > 1 and (broken[top : top + 6] > 50).any():
            break
    assert pieces(broken) > 1
    assert engine.read_number(model, broken).text == "5"


def test_rejection_uses_the_models_rule_or_a_threshold(model, mnist):
    """With the engine's models, predict(..., reject=True) decides; a model without it falls back on
    REJECT_THRESHOLD; reject=False reads every glyph as its most likely digit."""
    blob = np.zeros((60, 60), np.uint8)  # an X: the model is unsure what digit it is
    for i in range(50):
        blob[5 + i, 5 + i : 9 + i] = blob[5 + i, 51 - i : 55 - i] = 255
    engine_reading = engine.read_number(model, blob)
    assert engine_reading.text == "?" and engine_reading.digits[0].label is None
    assert engine.read_number(model, blob, reject=False).digits[0].label is not None

    class WithoutRejection:  # only predict_proba and predict(images)
        def predict_proba(self, x):
            return model.predict_proba(x)

        def predict(self, x):
            return model.predict(x)

    fallback = engine.read_number(WithoutRejection(), blob)
    assert fallback.digits[0].confidence < reader.REJECT_THRESHOLD and fallback.text == "?"
    seven = mnist["test_images"][0]
    assert engine.read_number(WithoutRejection(), seven).text == str(mnist["test_labels"][0])


def test_a_not_a_digit_output_rejects():
    """An eleven-output model: among the digits it is sure of a 3, but its "not a digit" output wins."""
    from engine.model import Sequential

    config = {"input_shape": [784], "layers": [{"type": "Dense", "in_features": 784, "out_features": 11}]}
    eleven = Sequential.from_config(config, np.random.default_rng(0))
    eleven.layers[0].params["W"][...] = 0
    eleven.layers[0].params["b"][...] = 0
    eleven.layers[0].params["b"][3] = 10.0
    eleven.layers[0].params["b"][10] = 12.0
    img = number_bench.draw(number_bench.STROKES["3"], 60, 6)
    reading = engine.read_number(eleven, img)
    assert reading.digits and reading.text == "?" * len(reading.digits)
    assert engine.read_number(eleven, img, reject=False).text == "3" * len(reading.digits)
    assert reading.digits[0].confidence > 0.99  # of the digits, 3 is sure


def test_in_a_number_a_digit_sized_glyph_needs_a_surer_not_a_digit():
    """The model's rule refuses at "not a digit" 0.1; the glyphs say 0.3. Alone, a drawn 3 is refused;
    two of them in a number are read (below NUMBER_REJECT); just above it both are refused again."""
    from engine.model import Sequential
    from engine.rejection import RejectRule

    def model_saying(not_digit: float):
        config = {"input_shape": [784], "layers": [{"type": "Dense", "in_features": 784, "out_features": 11}]}
        layers = Sequential.from_config(config, np.random.default_rng(0)).layers
        layers[0].params["W"][...] = 0
        layers[0].params["b"][...] = 0
        layers[0].params["b"][3] = 10.0  # P(3) ~ 1 - not_digit, the other digits ~ 0
        layers[0].params["b"][10] = 10.0 + np.log(not_digit / (1 - not_digit))
        return Sequential(layers, (784,), None, RejectRule(threshold=0.1))

    three = number_bench.draw(number_bench.STROKES["3"], 60, 6)
    gap = np.zeros((60, 40), np.float32)
    number = np.hstack([three, gap, three])
    assert engine.read_number(model_saying(0.3), three).text == "?"
    assert engine.read_number(model_saying(0.3), number).text == "33"
    above = (1 + reader.NUMBER_REJECT) / 2
    assert engine.read_number(model_saying(above), number).text == "??"


def test_the_same_image_reads_the_same(model, test_digits):
    crops, labels = test_digits
    composed = number_bench.compose(np.random.default_rng(5), [crops[i] for i in range(8)], 0.5, 50)
    first = engine.read_number(model, composed.image)
    assert all(engine.read_number(model, composed.image.copy()) == first for _ in range(2))
    assert engine.read_number(model, (composed.image * 255).astype(np.uint8)).text == first.text


# ---------- hostile inputs ----------


def test_no_ink_reads_nothing(model):
    for gray in (np.zeros((200, 800), np.uint8), np.zeros((1, 1)), np.full((50, 50), 0.01, np.float32)):
        reading = engine.read_number(model, gray)
        assert reading.text == "" and reading.digits == ()


@pytest.mark.parametrize(
    "gray",
    [
        np.broadcast_to(np.uint8(0), (20000, 20000)),  # a view: nothing is allocated
        np.zeros((28,)),
        np.zeros((2, 28, 28)),
        np.zeros((0, 10)),
        np.array([[np.nan, 1.0]]),
        np.array([[np.inf, 0.0]]),
        np.array([[-1.0, 0.5]]),
        np.array([["a", "b"]]),
        np.array([[1e308, 0.0]]),
    ],
    ids=["20000x20000", "1-D", "3-D", "empty", "NaN", "inf", "negative", "text", "beyond float32"],
)
def test_unusable_inputs_are_input_shape_errors(model, gray):
    with pytest.raises(engine.InputShapeError):
        engine.read_number(model, gray)


def test_a_bool_image_reads_like_its_uint8_copy(model):
    """True is full ink, as in preprocess (not 1 of 255, which would read as nothing)."""
    ink = number_bench.draw(number_bench.STROKES["7"], 60, 6) > 0.5
    assert engine.read_number(model, ink).text == engine.read_number(model, ink.astype(np.uint8) * 255).text == "7"


def test_huge_thin_and_all_ink_inputs_finish_quickly(model):
    rng = np.random.default_rng(0)
    cases = [
        np.full((8000, 8000), 255, np.uint8),
        rng.integers(0, 2, (2000, 6000), dtype=np.uint8) * np.uint8(255),
        np.tile(np.array([255] * 3 + [0] * 5, np.uint8), 1000)[None],
        np.full((1, 7), 1.0),
        np.ones((200, 800), bool),
    ]
    for gray in cases:
        start = time.perf_counter()
        reading = engine.read_number(model, gray)
        assert time.perf_counter() - start < 5.0, gray.shape
        assert len(reading.digits) <= reader.MAX_GLYPHS
        for d in reading.digits:
            x0, y0, x1, y1 = d.box
            assert 0 <= x0 < x1 <= gray.shape[1] and 0 <= y0 < y1 <= gray.shape[0]


# ---------- the parts ----------


def flood_fill_count(mask: np.ndarray) -> int:
    """8-connected components by a plain flood fill: the reference."""
    seen = np.zeros_like(mask)
    count = 0
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        count += 1
        stack = [(y, x)]
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            for ny in range(max(cy - 1, 0), min(cy + 2, mask.shape[0])):
                for nx in range(max(cx - 1, 0), min(cx + 2, mask.shape[1])):
                    if mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
    return count


def classified(model, gray, monkeypatch, **options) -> list[int]:
    """How many glyph images reading ``gray`` hands the model, call by call (the first: every group and
    run of groups; then, per depth of cutting, the coarse cuts and the fine ones)."""
    counted = []
    real = reader.model_logits
    monkeypatch.setattr(reader, "model_logits", lambda m, images: counted.append(len(images)) or real(m, images))
    engine.read_number(model, gray, **options)
    return counted


def wide_box() -> np.ndarray:
    """The outline of a box 5 heights wide: not flat, so the reader tries cutting it."""
    box = np.zeros((30, 140), np.uint8)
    box[3:27, 10:130] = 255
    box[6:24, 13:127] = 0
    return box


def test_a_flat_stroke_is_not_cut_column_by_column(model, monkeypatch):
    """A 7's first stroke, as the pad sends it while the pen is still down (8 x 60 pixels): it was cut
    at every column, 111 glyph images for one live reading (0.85 s in the page)."""
    dash = np.zeros((8, 60), np.uint8)
    dash[2:5, 3:57] = 255
    assert sum(classified(model, dash, monkeypatch)) <= 3
    # A wide mark that is not flat is still cut, on a grid of at most MAX_CUTS columns per level.
    bar = wide_box()
    whole, coarse, *_ = classified(model, bar, monkeypatch)
    assert whole == 1 and 2 * 4 <= coarse <= 2 * (reader.MAX_CUTS + 1)  # was 48 images: 24 cuts 0.2 heights apart


def test_fewer_candidates_classify_fewer_glyph_images(model, monkeypatch):
    """The page reads with few candidates while the pen moves: the cuts stop at the budget."""
    bar = wide_box()  # cut at every depth otherwise
    assert sum(classified(model, bar, monkeypatch)) > 40
    monkeypatch.undo()
    assert sum(classified(model, bar, monkeypatch, candidates=24)) <= 24
    for bad in (0, -3, 2.5, True, "24"):
        with pytest.raises(ValueError, match="candidates"):
            engine.read_number(model, bar, candidates=bad)


def overflowing_model(path, outputs: int, overflowing: int):
    """A model file load_model accepts (finite on its blank, full and checkered probes) whose logit
    ``overflowing`` becomes inf on ink across the middle row: where read_number hung (helper-30's fuzzing)."""
    from engine.model import Sequential

    model = Sequential.from_config(
        {
            "input_shape": [784],
            "layers": [
                {"type": "Dense", "in_features": 784, "out_features": 2},
                {"type": "ReLU"},
                {"type": "Dense", "in_features": 2, "out_features": outputs},
            ],
        }
    )
    w1 = np.zeros((784, 2), np.float32)
    w1[[14 * 28 + 14, 14 * 28 + 15, 14 * 28 + 16], :] = 1  # bright in the middle row ...
    w1[[0, 1, 2], :] = -1  # ... and dark in the corner: never on the probes
    w2 = np.zeros((2, outputs), np.float32)
    w2[:, overflowing] = 3e38
    model.load_state_arrays(
        {"0.W": w1, "0.b": np.full(2, -2.0, np.float32), "2.W": w2, "2.b": np.zeros(outputs, np.float32)}
    )
    engine.save_model(model, path, card={})
    return engine.load_model(path)


@pytest.mark.parametrize("outputs, overflowing", [(10, 3), (11, 10)])
def test_a_model_that_overflows_on_real_ink_still_reads_in_no_time(tmp_path, outputs, overflowing):
    model = overflowing_model(tmp_path / "overflow.npz", outputs, overflowing)
    gray = np.zeros((60, 200), np.uint8)
    for x in (10, 60, 110, 160):  # four boxes with a bar across the middle: ink where the model overflows
        gray[10:50, x : x + 30] = 255
        gray[14:28, x + 4 : x + 26] = gray[32:46, x + 4 : x + 26] = 0
    start = time.perf_counter()
    reading = engine.read_number(model, gray)
    assert time.perf_counter() - start < 10  # it looped forever, growing a list by 80 MB/s
    assert reading.digits and all(np.isfinite(d.confidence) for d in reading.digits)


def test_component_labels_match_a_flood_fill():
    rng = np.random.default_rng(0)
    for _ in range(60):
        h, w = rng.integers(1, 30, 2)
        mask = rng.random((h, w)) < rng.uniform(0.1, 0.7)
        comps = label_components(mask)
        assert comps.count == flood_fill_count(mask)
        assert ((comps.labels >= 0) == mask).all()
        for i in range(comps.count):
            ys, xs = np.nonzero(comps.labels == i)
            assert tuple(comps.boxes[i]) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            assert comps.areas[i] == len(ys)
    diagonal = np.eye(5, dtype=bool)
    assert label_components(diagonal).count == 1  # corners touch: 8-connected


def test_the_benchmark_runs(model, mnist):
    result = number_bench.run(model, mnist, count=3, strokes=1, timing=2, hostile=False)
    assert set(result["numbers"]) >= {"4 digits, 0% touching", "4 digits, 20% touching"}
    assert all(0 <= r["whole"] <= 1 for r in result["numbers"].values())
    assert result["time_4_digits"]["median"] > 0
    assert number_bench.report(result)
    assert "| 4 digits, 20% touching" in number_bench.markdown(result)


def test_the_benchmark_table_puts_each_figure_in_its_column():
    figures = {"numbers": 7, "whole": 0.25, "whole_without_rejection": 0.5, "digits": 0.75}
    result = {
        "numbers": {"4 digits, 20% touching": figures},
        "strokes": {"thin": {"numbers": figures}},
        "time_4_digits": {"median": 0.012, "p90": 0.034, "classified": 15.0},
    }
    lines = number_bench.markdown(result).splitlines()
    assert "| 4 digits, 20% touching (7) | 25.0% | 50.0% | 75.0% |" in lines
    assert "| 4 digits drawn as strokes, thin pen (7) | 25.0% | 50.0% | 75.0% |" in lines
    assert "median 12.0 ms" in lines[-1] and "p90 34.0 ms" in lines[-1]


def test_fitted_priors_are_written_into_the_reader(tmp_path):
    """--fit --write replaces every default of Priors in number_reader.py, and only those."""
    source = (ROOT / "engine" / "number_reader.py").read_text()
    copy = tmp_path / "number_reader.py"
    copy.write_text(source)
    names = [f.name for f in reader.fields(reader.Priors)]
    fitted = reader.Priors(**{name: round(0.01 * (k + 1), 2) for k, name in enumerate(names)})
    number_bench.write_priors(fitted, copy)
    written = copy.read_text()
    for name in names:
        assert f"    {name}: float = {getattr(fitted, name)}" in written
    assert len(written.splitlines()) == len(source.splitlines())


def test_the_error_sorter_names_a_touching_pair_left_whole(model, test_digits, monkeypatch):
    import number_errors

    crops, labels = test_digits
    idx = first_of_each(labels, [4, 2])
    pair = number_bench.compose(np.random.default_rng(1), [crops[i] for i in idx], 1.0, 40)
    assert number_errors.categorize(model, pair, "42") == "right"
    monkeypatch.setattr(reader, "SPLIT_DEPTH", 0)  # never cut: the pair stays one glyph
    assert number_errors.categorize(model, pair, "42") == "missed split"


def test_the_reader_is_tuned_on_digits_the_shipped_model_never_trained_on(mnist, model):
    """number_bench.held_out is the shipped model's validation split (the --fit and --validate digits):
    the model reads them as its card says it read its validation split, not as surely as the
    training digits it learnt (99.7%)."""
    import json

    fit_x, fit_y = number_bench.held_out(mnist, "fit")
    val_x, val_y = number_bench.held_out(mnist, "validate")
    assert len(fit_y) == len(val_y) == number_bench.HELD_OUT // 2
    card = json.loads((ROOT / "models" / "mnist_int8.json").read_text())
    read = model.predict(np.concatenate([fit_x, val_x])) == np.concatenate([fit_y, val_y])
    assert abs(float(read.mean()) - card["val_accuracy"]) < 0.001


def test_each_glyph_carries_the_picture_and_probabilities_it_was_read_with(model, test_digits):
    """ReadDigit.image is what the model read and .probabilities what it said of it (the page's bars and
    preview show them), also for a refused mark rejoined from cut pieces; confidence is their top."""
    import letter_samples

    crops, _ = test_digits
    rng = np.random.default_rng(0)
    pages = [number_bench.compose(rng, [crops[i] for i in rng.integers(0, 300, 4)], 0.5, 40).image for _ in range(6)]
    pages += [letter_samples.gray(s) for s in letter_samples.samples("held_out")[::6]]
    seen_refused = 0
    for gray in pages:
        for d in engine.read_number(model, gray).digits:
            assert d.image.shape == (28, 28) and d.image.dtype == np.float32
            np.testing.assert_allclose(d.probabilities, model.predict_proba(d.image)[0], atol=1e-6)
            assert d.confidence == pytest.approx(float(d.probabilities.max()))
            if d.label is None:
                seen_refused += 1
            else:
                assert d.label == int(d.probabilities.argmax())
    assert seen_refused >= 3
