"""Example digits in the empty state (issue 15): one click draws one on the pad and the page reads it."""

import number_strokes as ns
import pytest

import pagekit


@pytest.mark.parametrize("text", ["7", "3", "42"])
def test_an_example_is_drawn_and_read_then_undone(page, text):
    row = page.locator("#try-examples")
    assert row.is_visible()
    before = page.evaluate("window.digitsStats.count")
    page.get_by_role("button", name=f"Draw an example: {text}").click()
    pagekit.wait_for(page, "(n) => window.digitsStats.count > n", arg=before)
    assert pagekit.wait_prediction(page, text) == text
    assert page.evaluate("window.digitPad.strokes.length") > 0
    assert row.is_hidden()  # only while the pad is empty
    page.click("#undo")
    pagekit.wait_for(page, "document.getElementById('prediction').textContent === ''")
    assert row.is_visible()


def test_examples_hide_while_drawing(page):
    ns.drawn(page, lambda: ns.draw_digit(page, ns.DIGITS[1]))
    assert page.locator("#try-examples").is_hidden()
