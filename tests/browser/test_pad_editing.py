"""Editing the pad (issue 15): redo (Ctrl+Shift+Z, Ctrl+Y, the Redo button), undoing Clear, a stroke that
starts just outside the pad, and a two-finger pinch that must not draw."""

import number_strokes as ns
import pytest

import pagekit
from pagekit import DIGIT_STROKES

STROKES = "window.digitPad.strokes.length"


def wait_prediction_is(page, text: str) -> None:
    pagekit.wait_for(page, "(t) => document.getElementById('prediction').textContent === t", arg=text)


def test_undo_then_redo_with_keys_and_button(page):
    ns.drawn(page, lambda: ns.draw_digit(page, DIGIT_STROKES[4]))  # two strokes
    assert page.evaluate(STROKES) == 2
    page.keyboard.press("Control+z")
    assert page.evaluate(STROKES) == 1
    page.keyboard.press("Control+Shift+z")
    assert page.evaluate(STROKES) == 2
    wait_prediction_is(page, "4")
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert page.evaluate(STROKES) == 0
    page.keyboard.press("Control+y")
    assert page.evaluate(STROKES) == 1
    page.click("#redo")
    assert page.evaluate(STROKES) == 2
    wait_prediction_is(page, "4")
    page.keyboard.press("Control+y")  # nothing left to redo
    assert page.evaluate(STROKES) == 2


def test_a_new_stroke_drops_what_could_be_redone(page):
    ns.drawn(page, lambda: ns.draw_digit(page, DIGIT_STROKES[4]))
    page.keyboard.press("Control+z")
    ns.drawn(page, lambda: ns.draw_digit(page, DIGIT_STROKES[1]))
    before = page.evaluate("JSON.stringify(window.digitPad.strokes)")
    page.keyboard.press("Control+Shift+z")  # nothing to redo: the 4's second stroke is gone for good
    assert page.evaluate("JSON.stringify(window.digitPad.strokes)") == before


def test_clear_can_be_undone_and_redone(page):
    ns.drawn(page, lambda: ns.draw_digit(page, DIGIT_STROKES[7]))
    wait_prediction_is(page, "7")
    page.click("#clear")
    wait_prediction_is(page, "")
    page.click("#undo")
    assert page.evaluate(STROKES) == 1
    wait_prediction_is(page, "7")
    page.keyboard.press("Control+Shift+z")
    assert page.evaluate(STROKES) == 0
    wait_prediction_is(page, "")


def test_a_stroke_may_start_a_few_pixels_outside_the_pad(page):
    """A 7 whose first stroke lands 6 px left of the pad's left edge is drawn whole."""
    box = pagekit.pad_box(page)
    seven = ns.place(DIGIT_STROKES[7], ns.aspect(page), 0.0, 0.9)  # in the pad's leftmost square
    x0, y0 = seven[0][0]
    seven[0].insert(0, (-6 / box["width"], y0))  # ... with its top bar started outside the pad
    ns.drawn(page, lambda: pagekit.draw_mouse(page, seven))
    assert page.evaluate(STROKES) == 1
    first = page.evaluate("window.digitPad.strokes[0][0]")
    assert first["x"] == 0, first  # clamped onto the pad's edge
    assert pagekit.prediction(page) == "7"


def test_a_press_far_from_the_pad_draws_nothing(page):
    box = pagekit.pad_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] + 80)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.up()
    assert page.evaluate(STROKES) == 0


@pytest.fixture(scope="module")
def touch(browser, site_url):
    from conftest import Visit

    v = Visit(browser, site_url, viewport={"width": 400, "height": 800}, is_mobile=True, has_touch=True)
    v.open()
    yield v
    v.close()


def test_a_two_finger_pinch_draws_nothing(touch):
    page = touch.page
    page.evaluate("window.digitPad.clear()")
    cdp = touch.context.new_cdp_session(page)
    box = pagekit.pad_box(page)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def send(kind, points):
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in points]},
        )

    send("touchStart", [(0, (cx - 10, cy))])
    send("touchMove", [(0, (cx - 14, cy + 2))])
    send("touchStart", [(0, (cx - 14, cy + 2)), (1, (cx + 10, cy))])
    for step in range(1, 15):
        send("touchMove", [(0, (cx - 14 - 5 * step, cy + 2 - 4 * step)), (1, (cx + 10 + 5 * step, cy + 4 * step))])
    send("touchEnd", [])
    page.wait_for_timeout(200)
    assert page.evaluate(STROKES) == 0
    assert pagekit.prediction(page) == ""
    # The pad still draws with one finger afterwards.
    pagekit.draw_touch(page, cdp, DIGIT_STROKES[7])
    assert pagekit.wait_prediction(page, "7") == "7"
    assert page.evaluate(STROKES) == 1
