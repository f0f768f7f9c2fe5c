"""Letters on the real pad (issue 14, "that is not a digit"): the issue's target letters, drawn with the mouse.

Each of the 23 letters in tests/browser/letter_strokes.py is drawn in the middle of the pad
at 60% of the pad's height; the page must show exactly what engine.read_number reads in CPython for the
same pixels, and say "not a digit" in words whenever it refuses a mark. Overall, most of
them must be refused outright (an empty #prediction): FLOOR below. What is not refused is
almost always a letter cut into digit-like pieces (h as "17", M as "14"), printed by the test.
"""

import letter_strokes
import number_strokes as ns
import pytest

import pagekit
from conftest import MODEL

# Least share of the drawings refused outright. With the reader and pen of be00060: 40 of 46 at
# 70% and 45% of the pad's height. After the number reader's refit (engine/number_reader.py
# Priors, in-number refusal at 0.5) and the pen that follows the ink's size, 13 of 23 at 60%
# in CPython: letters are cut into digit-like pieces (A 14, N 111, h 17, m 177). A known
# weakness, kept from getting worse here. With the lone-mark rule (number_reader._letters_cut): 18 of 23
# in CPython (N 111, a 0, h 17, m 177, n 17 still read).
FLOOR = 0.78
SIZES = (0.6,)  # of the pad's height (each drawing costs seconds on a busy machine)


@pytest.fixture(scope="module")
def model():
    import engine

    return engine.load_model(MODEL)


def test_target_letters_drawn_on_the_pad_are_refused(page, model):
    import engine

    refused, read = 0, []
    for name, strokes in letter_strokes.LETTERS.items():
        for size in SIZES:
            page.evaluate("window.digitPad.clear()")
            pagekit.wait_for(page, "document.getElementById('prediction').textContent === ''")
            cell = [[(0.5 + (x - 0.5) * size, 0.5 + (y - 0.5) * size) for x, y in s] for s in strokes]
            ns.drawn(page, lambda cell=cell: ns.draw_digit(page, cell))
            got = ns.shown(page)
            gray, _ = ns.pad_gray(page)
            reading = engine.read_number(model, gray)
            any_digit = any(d.label is not None for d in reading.digits)
            assert got["prediction"] == (reading.text if any_digit else ""), (name, size, got, reading.text)
            if any(d.label is None for d in reading.digits):
                assert "not a digit" in got["message"].lower(), (name, got)
            if any_digit:
                read.append(f"{name}@{size}: {reading.text}")
            else:
                refused += 1
    total = len(letter_strokes.LETTERS) * len(SIZES)
    print(f"\n{refused} of {total} letter drawings refused; read as digits: {', '.join(read) or 'none'}")
    assert refused >= FLOOR * total, f"only {refused} of {total} refused; read: {read}"
