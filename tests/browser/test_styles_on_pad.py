"""The stroke style test set through the real page (issue 14): styles MNIST lacks, drawn with the mouse.

Samples of tests/strokes/styles/ (chosen by a fixed rule: samples 0, 5 and 10 of each style
below, never picked by how they read) are drawn on the pad as a user would: the mouse moves
along each stroke's points, mapped from the file's square pad (280 px) to the square in the
middle of the page's pad (its side the pad's height, so the aspect is kept and the pen keeps
its share of the digit's height), with the page's own pen. For each sample the page must show
exactly what engine.read_number (the shipped model) reads in CPython on the pixels the page
handed to Python; across all of them the page must read the right digit for at least FLOOR.
"""

from __future__ import annotations

import sys

import number_strokes as ns
import pytest

import pagekit
from conftest import MODEL, ROOT

sys.path.insert(0, str(ROOT / "tests"))
import stroke_files  # noqa: E402

STYLES = ["0-slashed", "1-long-flag", "1-european", "4-closed", "5-one-stroke", "7-crossbar", "9-curly"]
INDICES = (0, 5, 10)  # a fixed rule, not a choice of samples that read well
CASES = [(style, i) for style in STYLES for i in INDICES]
# Share of CASES the page must read right. Measured on the shipped model of 2026-12-03: 20/21 (95%),
# the miss 1-long-flag 0 read as 7 (the model of 2026-12-02: 15/21, refusing 0-slashed 0/5/10 and
# 4-closed 0/10 as "not a digit"). The floor allows one more miss.
FLOOR = 0.90

READ: dict[tuple[str, int], str] = {}  # (style, index) -> what #prediction showed


@pytest.fixture(scope="module")
def model():
    import engine

    return engine.load_model(MODEL)


@pytest.fixture(scope="module")
def samples():
    return {style: stroke_files.load_style(stroke_files.STYLES_DIR / f"{style}.json") for style in STYLES}


def unit_strokes(sample):
    """The sample's strokes as fractions of its square pad (x, y in [0, 1], y down)."""
    return [[(x / sample.pad, y / sample.pad) for x, y in stroke] for stroke in sample.strokes]


def draw_points(page, strokes) -> None:
    """The mouse down at each stroke's first point, moved to each of its points in turn, up at its last
    (the file's points as they are, a few pixels apart like pointer events; no points added)."""
    box = pagekit.pad_box(page)
    for stroke in strokes:
        pts = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*pts[0])
        page.mouse.down()
        for p in pts[1:]:
            page.mouse.move(*p)
        page.mouse.up()


def draw_and_check(page, model, sample) -> dict:
    """Draw the sample on the pad; assert the page shows read_number's reading of its own pixels."""
    import engine

    ns.drawn(page, lambda: draw_points(page, ns.centered(unit_strokes(sample), ns.aspect(page))))
    got = ns.shown(page)
    gray, _ = ns.pad_gray(page)
    reading = engine.read_number(model, gray)
    expected = reading.text if any(d.label is not None for d in reading.digits) else ""
    where = f"{sample.style} sample {sample.index}"
    assert got["prediction"] == expected, (where, got, reading.text)
    assert [g["label"] for g in got["glyphs"]] == ["?" if d.label is None else str(d.label) for d in reading.digits]
    refused = any(d.label is None for d in reading.digits)
    assert ("not a digit" in got["message"].lower()) == refused, (where, got)
    READ[(sample.style, sample.index)] = got["prediction"] if got["prediction"] else "refused: " + got["message"]
    return got


@pytest.mark.parametrize(("style", "index"), CASES, ids=[f"{s}-{i}" for s, i in CASES])
def test_a_style_sample_reads_as_in_cpython(page, model, samples, style, index):
    draw_and_check(page, model, samples[style][index])


def test_the_page_reads_most_style_samples_right(page, model, samples, record_property):
    for style, index in CASES:  # any not drawn yet (this test run alone)
        if (style, index) not in READ:
            draw_and_check(page, model, samples[style][index])
            page.evaluate("window.digitPad.clear()")
            pagekit.wait_for(page, "document.getElementById('prediction').textContent === ''")
    right = [key for key in CASES if READ[key] == str(samples[key[0]][key[1]].label)]
    report = "; ".join(f"{s}[{i}] -> {READ[(s, i)]}" for s, i in CASES)
    print(f"\n{len(right)}/{len(CASES)} right: {report}")
    record_property("styles_on_pad", f"{len(right)}/{len(CASES)}: {report}")
    assert len(right) >= FLOOR * len(CASES), report
    assert pagekit.pad_box(page)  # the pad is still there (nothing navigated away)
