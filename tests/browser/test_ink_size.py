"""Digits drawn small, medium or large read alike (issue 15): the model's input is drawn with a pen that
follows the writing's size (web/ink_pen.js), not the pad's fixed brush.

Each drawing's reading is also checked against engine.read_number in CPython on the very pixels the page
handed to Python (number_strokes.pad_gray), as tests/browser/test_numbers.py does.
"""

import number_strokes as ns
import pytest

import pagekit
from conftest import MODEL

# Glyph height as a share of the pad's height; the unit-square digits span about 0.2..0.82 of their cell.
SIZES = {"small": 0.17, "medium": 0.4, "large": 0.72}
GLYPH_SPAN = 0.62


@pytest.fixture(scope="module")
def model():
    import engine

    return engine.load_model(MODEL)


def draw_sized(page, digit: int, height: float) -> None:
    """Digit ``digit`` in the middle of the pad, its ink ``height`` pad heights tall."""
    ratio = ns.aspect(page)
    size = height / GLYPH_SPAN
    left = (ratio - size) / 2
    top = 0.5 - size * 0.51  # the glyph's middle (0.51 of its cell) on the pad's middle
    strokes = ns.place(ns.DIGITS[digit], ratio, left, size, top)
    ns.drawn(page, lambda: pagekit.draw_mouse(page, strokes))


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("digit", range(10))
def test_every_digit_reads_right_at_every_size(page, model, digit, size):
    import engine

    draw_sized(page, digit, SIZES[size])
    got = ns.shown(page)
    gray, _ = ns.pad_gray(page)
    reading = engine.read_number(model, gray)
    assert got["prediction"] == reading.text, (got, reading)  # the page reads what CPython reads
    assert got["prediction"] == str(digit), (size, got)


def test_the_ink_pen_follows_the_writing_height(page):
    """A vertical bar drawn short and tall: its width on the ink canvas is the same share of its height."""
    widths = {}
    for height in (0.15, 0.6):
        page.evaluate("window.digitPad.clear()")
        bar = [[(0.5, 0.5 - height / 2), (0.5, 0.5 + height / 2)]]  # the pad's middle column, fractions of it
        ns.drawn(page, lambda b=bar: pagekit.draw_mouse(page, b))
        gray, _ = ns.pad_gray(page)
        middle = gray[gray.shape[0] // 2]
        widths[height] = (int((middle > 127).sum()), gray.shape[0])
    (w_short, _), (w_tall, _) = widths[0.15], widths[0.6]
    # 0.12 of 42 px = 5 px and of 168 px = 20 px on the 280 px ink canvas; the fixed brush was 21 px for both.
    assert 3 <= w_short <= 7 and 17 <= w_tall <= 23, widths
