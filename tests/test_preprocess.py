"""engine.preprocess: MNIST-style normalization of any drawing, shared by the page and the CLI."""

import numpy as np
import pytest

from engine import InputShapeError, ink_on_dark, preprocess
from engine.preprocess import stroke_width


def centre_of_mass(img):
    ys, xs = np.indices(img.shape)
    return (ys * img).sum() / img.sum(), (xs * img).sum() / img.sum()


def draw_polyline(points, size=280, width=2.0):
    """Ink bright on dark: a polyline of the given stroke width, like a canvas would produce."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    img = np.zeros((size, size), np.float32)
    for (y0, x0), (y1, x1) in zip(points[:-1], points[1:]):
        d = np.array([y1 - y0, x1 - x0], np.float32)
        t = np.clip(((yy - y0) * d[0] + (xx - x0) * d[1]) / max(float(d @ d), 1e-6), 0, 1)
        dist = np.hypot(yy - (y0 + t * d[0]), xx - (x0 + t * d[1]))
        img = np.maximum(img, np.clip(width / 2 + 0.5 - dist, 0, 1))
    return img


def test_output_contract():
    out = preprocess(draw_polyline([(40, 140), (240, 140)]))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() == pytest.approx(1.0)


@pytest.mark.parametrize("blank", [np.zeros((50, 80)), np.zeros((28, 28), np.uint8), np.full((10, 10), 0.01)])
def test_blank_input_gives_zeros(blank):
    assert not preprocess(blank).any()


def test_fits_20x20_box_and_centres_the_mass():
    out = preprocess(draw_polyline([(30, 60), (30, 220), (250, 120)], width=12))  # a "7"
    rows, cols = np.flatnonzero(out.max(axis=1) > 0.05), np.flatnonzero(out.max(axis=0) > 0.05)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) <= 21
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.6 and abs(cx - 14) <= 0.6


def test_aspect_ratio_is_preserved():
    out = preprocess(draw_polyline([(20, 140), (260, 140)], width=14))  # a tall "1"
    rows, cols = np.flatnonzero(out.max(axis=1) > 0.2), np.flatnonzero(out.max(axis=0) > 0.2)
    assert rows[-1] - rows[0] + 1 >= 19
    assert cols[-1] - cols[0] + 1 <= 5


def test_hairline_strokes_are_thickened_to_mnist_width():
    thin = preprocess(draw_polyline([(30, 60), (30, 220), (250, 120)], width=1))
    assert stroke_width(thin) >= 2.0, "a 1-pixel line on a big canvas must reach MNIST's stroke width"
    untouched = preprocess(draw_polyline([(30, 60), (30, 220), (250, 120)], width=1), stroke_ratio=0)
    assert stroke_width(untouched) < stroke_width(thin)


def test_mnist_digits_come_back_almost_unchanged(mnist):
    x = mnist["test_images"][:300]
    out = np.array([preprocess(img) for img in x])
    assert np.abs(out - x / 255.0).mean() < 0.01


def test_preprocessed_mnist_keeps_the_models_accuracy(mnist, trained_mlp):
    x, y = mnist["test_images"][:1000], mnist["test_labels"][:1000]
    raw = (trained_mlp.predict(x) == y).mean()
    processed = (trained_mlp.predict(np.array([preprocess(img) for img in x])) == y).mean()
    assert processed >= raw - 0.01


def test_uint8_and_float_inputs_agree():
    img = draw_polyline([(40, 40), (240, 240)], width=10)
    # uint8 rounding may move the rounded centre of mass by one pixel; the images must still match closely
    assert np.abs(preprocess((img * 255).astype(np.uint8)) - preprocess(img)).mean() < 0.01


def test_huge_scans_are_reduced_before_the_morphology():
    img = np.kron(draw_polyline([(30, 60), (30, 220), (250, 120)], width=10), np.ones((10, 10), np.float32))
    assert img.shape == (2800, 2800)
    out = preprocess(img)
    assert out.shape == (28, 28) and out.max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.zeros((3, 28, 28)), "2-D"),
        (np.zeros((0, 5)), "2-D"),
        (np.full((5, 5), np.nan), "NaN"),
        (-np.ones((5, 5)), ">= 0"),
        (np.zeros((9000, 2), np.uint8), "larger than"),
        (np.array([["x"]]), "numeric"),
    ],
)
def test_bad_input_is_a_clear_error(bad, match):
    with pytest.raises(InputShapeError, match=match):
        preprocess(bad)


def test_ink_on_dark_inverts_paper_and_removes_the_background():
    ink = draw_polyline([(20, 50), (200, 150)], size=220, width=8)
    photo = 0.85 - 0.7 * ink + np.random.default_rng(0).normal(0, 0.02, ink.shape)  # grey paper with noise
    out = ink_on_dark(np.clip(photo, 0, 1))
    assert out.dtype == np.float32 and out.max() == pytest.approx(1.0)
    assert (out[ink == 0] == 0).mean() > 0.99, "paper texture must read as background"
    assert out[ink == 1].mean() > 0.9
    np.testing.assert_array_equal(ink_on_dark(ink) > 0, ink > 0.25)  # already bright on dark: not inverted
    assert not ink_on_dark(np.full((50, 50), 0.7)).any()  # flat paper: no ink


def test_a_small_digit_on_a_large_sheet_is_ink_and_a_faint_smudge_is_not(mnist, trained_mlp):
    """Under 0.5% of the pixels is ink (the 99.5th percentile is paper): it was read as a blank sheet."""
    digit = 1.0 - mnist["test_images"][0].astype(np.float32) / 255  # dark ink on white paper
    sheet = np.full((1000, 1000), 0.9, np.float32) + np.random.default_rng(1).normal(0, 0.01, (1000, 1000))
    sheet[600:628, 300:328] = np.minimum(sheet[600:628, 300:328], digit)
    out = ink_on_dark(np.clip(sheet, 0, 1))
    assert (out > 0).sum() < 1000 and out[600:628, 300:328].max() == pytest.approx(1.0)
    assert trained_mlp.predict(preprocess(out))[0] == mnist["test_labels"][0]
    ys, xs = np.indices((1000, 1000))
    smudged = 0.9 - 0.15 * np.exp(-(((ys - 500) ** 2 + (xs - 500) ** 2) / 2 / 20**2))  # soft, 15% darker
    assert not ink_on_dark(smudged).any()
