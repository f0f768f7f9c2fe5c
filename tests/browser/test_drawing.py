"""Drawing with the mouse predicts the digit; undo, clear and their keyboard shortcuts work."""

import pytest

import pagekit
from pagekit import DIGIT_STROKES


@pytest.mark.parametrize("digit", sorted(DIGIT_STROKES))
def test_drawn_digit_is_recognized(page, digit):
    pagekit.draw_mouse(page, DIGIT_STROKES[digit])
    assert pagekit.wait_prediction(page, str(digit)) == str(digit)
    # Only the digit in #prediction; the rest sits in its own elements.
    assert page.text_content("#prediction") == str(digit)
    assert "%" in page.text_content("#confidence")
    widths = page.eval_on_selector_all("#bars .fill", "els => els.map(e => parseFloat(e.style.width))")
    assert len(widths) == 10 and abs(sum(widths) - 100) < 1.0, widths
    assert max(range(10), key=lambda i: widths[i]) == digit


def test_prediction_updates_live_while_drawing(page):
    """A prediction appears before the pen is lifted."""
    pagekit.draw_mouse(page, DIGIT_STROKES[1], release=False)
    try:
        assert pagekit.wait_prediction(page) != ""
        assert page.locator(".answer").get_attribute("aria-busy") == "true"
    finally:
        page.mouse.up()
    page.wait_for_function("document.querySelector('.answer').getAttribute('aria-busy') === 'false'")


def test_the_model_sees_preview_shows_the_preprocessed_input(page):
    pagekit.draw_mouse(page, DIGIT_STROKES[7])
    pagekit.wait_prediction(page, "7")
    lit = page.evaluate("""() => {
        const d = document.getElementById('preview').getContext('2d').getImageData(0, 0, 28, 28).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 64) n++; return n; }""")
    assert 40 < lit < 400, f"{lit} bright pixels in the 28x28 preview"


def test_undo_button_removes_the_last_stroke(page):
    pagekit.draw_mouse(page, DIGIT_STROKES[4])
    pagekit.wait_prediction(page, "4")
    page.click("#undo")
    assert page.evaluate("window.digitPad.strokes.length") == 1
    page.click("#undo")
    page.wait_for_function("document.getElementById('prediction').textContent === ''")
    assert page.locator(".pad-hint").is_visible()


def test_clear_button_empties_the_pad(page):
    pagekit.draw_mouse(page, DIGIT_STROKES[0])
    pagekit.wait_prediction(page)
    page.click("#clear")
    page.wait_for_function("document.getElementById('prediction').textContent === ''")
    assert "Draw a digit" in page.text_content("#message")


def test_escape_clears_and_ctrl_z_undoes(page):
    pagekit.draw_mouse(page, DIGIT_STROKES[4])
    pagekit.wait_prediction(page, "4")
    page.keyboard.press("Control+z")
    assert page.evaluate("window.digitPad.strokes.length") == 1
    page.keyboard.press("Meta+z")
    assert page.evaluate("window.digitPad.strokes.length") == 0
    pagekit.draw_mouse(page, DIGIT_STROKES[1])
    pagekit.wait_prediction(page, "1")
    page.keyboard.press("Escape")
    page.wait_for_function("document.getElementById('prediction').textContent === ''")
    assert page.evaluate("window.digitPad.strokes.length") == 0


def test_timings_are_recorded_for_each_prediction(page):
    before = page.evaluate("window.digitsStats.count")
    pagekit.draw_mouse(page, DIGIT_STROKES[1])
    pagekit.wait_prediction(page, "1")
    after = page.evaluate("window.digitsStats.count")
    assert after > before
    assert "ms" in page.text_content("#timing")


# Shapes that are no digit at all: the model should hesitate on at least one.
NOT_DIGITS = {
    "dash": [[(0.3, 0.5), (0.7, 0.5)]],
    "triangle": [[(0.5, 0.25), (0.75, 0.75), (0.25, 0.75), (0.5, 0.25)]],
    "plus": [[(0.3, 0.5), (0.7, 0.5)], [(0.5, 0.3), (0.5, 0.7)]],
}


def shown_probabilities(page):
    return page.eval_on_selector_all("#bars .fill", "els => els.map(e => parseFloat(e.style.width) / 100)")


def test_low_confidence_says_so_and_names_the_runner_up(page):
    seen = {}
    for name, strokes in NOT_DIGITS.items():
        page.evaluate("window.digitPad.clear()")
        pagekit.draw_mouse(page, strokes)
        pagekit.wait_prediction(page)
        page.wait_for_function("document.querySelector('.answer').getAttribute('aria-busy') === 'false'")
        probs = shown_probabilities(page)
        order = sorted(range(10), key=lambda i: -probs[i])
        seen[name] = round(probs[order[0]], 3)
        message = page.text_content("#message")
        assert pagekit.prediction(page) == str(order[0])
        if probs[order[0]] < 0.6:
            assert message.startswith("Not sure"), message
            assert f"could also be a {order[1]}" in message, (message, probs)
            assert page.locator("#message.unsure").count() == 1
            return
        assert message.startswith("Runner-up"), message
    pytest.fail(f"no shape gave a top probability under 60%: {seen}")
