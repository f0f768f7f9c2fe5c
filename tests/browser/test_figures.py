"""The figures beside an answer agree (issue 15): one rounding rule (web/wording.py) for "N% sure",
the glyph list, the boxes and the bars; a bar that reads 0% is empty; a negligible runner-up is not named; "an 8"."""

import re

import number_strokes as ns
import pytest

FIGURES = """() => ({
    confidence: document.getElementById('confidence').textContent,
    message: document.getElementById('message').textContent,
    values: [...document.querySelectorAll('#bars .bar-value')].map((e) => e.textContent),
    widths: [...document.querySelectorAll('#bars .fill')].map((e) => e.style.width),
    glyph: document.querySelector('#digits .glyph-confidence')?.textContent,
    box: window.digitPad.boxes?.digits[0]?.percent,
})"""


@pytest.mark.parametrize("digit", range(10))
def test_one_figure_everywhere_and_empty_bars_for_zero(page, digit):
    ns.drawn(page, lambda: ns.draw_digit(page, ns.DIGITS[digit]))
    got = page.evaluate(FIGURES)
    sure = re.fullmatch(r"(\d+%) sure", got["confidence"])
    assert sure, got
    # read_number's figure, said one way in the answer, the glyph list, the box and the top bar.
    assert sure.group(1) == got["glyph"] == got["box"], got
    assert f"{max(int(v[:-1]) for v in got['values'])}%" == sure.group(1), got
    assert all(re.fullmatch(r"\d+%", v) for v in got["values"]), got["values"]
    for value, width in zip(got["values"], got["widths"]):
        if value == "0%":
            assert width == "0%", got  # no sliver beside a 0%
    runner = re.search(r"\((\d+)%\)", got["message"])
    if got["message"].startswith("Runner-up"):
        assert runner and int(runner.group(1)) >= 1, got  # a 0% runner-up is not named
    assert not re.search(r"\ba 8\b", got["message"]), got


@pytest.mark.parametrize("text", ["3859", "2074", "61"])
def test_each_glyphs_bars_show_the_figure_it_was_read_with(page, text):
    """The bars and the preview of a glyph are the picture and probabilities read_number read it with
    (ReadDigit.image, .probabilities), not a second reading of its box that could differ."""
    ns.drawn(page, lambda: ns.draw_number(page, text))
    glyphs = page.locator("#digits button.glyph")
    assert glyphs.count() >= 2, page.text_content("#digits")
    for i in range(glyphs.count()):
        glyphs.nth(i).click()
        page.locator(f"#digits button.glyph[data-index='{i}'][aria-pressed='true']").wait_for(state="attached")
        got = page.evaluate(
            FIGURES.replace("#digits .glyph-confidence", f'#digits button[data-index="{i}"] .glyph-confidence')
        )
        label = page.text_content(f"#digits button[data-index='{i}'] .glyph-label")
        if label == "?":
            continue
        assert got["values"][int(label)] == got["glyph"], (text, i, label, got)
