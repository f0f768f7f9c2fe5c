"""Whole numbers on the pad (issue 14): read by engine.read_number, boxes over the ink, "not a digit" in words.

Every reading the page shows is checked against engine.read_number run in CPython
on the very pixels the page handed to Python (number_strokes.pad_gray), so these
tests hold for whichever model is installed; test_a_plus_sign_is_not_a_digit pins a
mark the shipped model already refuses.
"""

import re
import sys

import number_strokes as ns
import pytest

import pagekit
from conftest import MODEL, ROOT

sys.path.insert(0, str(ROOT / "web"))
import wording  # noqa: E402  (the page's own rounding rule)


@pytest.fixture(scope="module")
def model():
    import engine

    return engine.load_model(MODEL)


def cpython_reading(page, model):
    """read_number in CPython on the pixels the page reads, boxes moved to ink-canvas pixels like the page's."""
    import engine

    gray, (ox, oy) = ns.pad_gray(page)
    reading = engine.read_number(model, gray)
    boxes = [[d.box[0] + ox, d.box[1] + oy, d.box[2] + ox, d.box[3] + oy] for d in reading.digits]
    return reading, boxes


def expected_prediction(reading) -> str:
    """What #prediction must hold: the reading, or nothing when no glyph is a digit."""
    return reading.text if any(d.label is not None for d in reading.digits) else ""


def test_the_pad_is_wide_on_a_desktop(page):
    assert ns.aspect(page) >= 2.0, pagekit.pad_box(page)
    # The ink canvas Python reads has the pad's shape (a number is not squeezed).
    w, h = page.evaluate("[window.digitPad.ink.width, window.digitPad.ink.height]")
    assert abs(w / h - ns.aspect(page)) < 0.02, (w, h)
    # The boxes' overlay covers the pad's drawing area exactly and lets the pen through.
    geo = page.evaluate(
        """() => {
        const p = document.getElementById('pad'), o = document.getElementById('pad-boxes');
        const a = p.getBoundingClientRect(), b = o.getBoundingClientRect();
        return { dx: b.left - a.left - p.clientLeft, dy: b.top - a.top - p.clientTop,
                 dw: b.width - p.clientWidth, dh: b.height - p.clientHeight,
                 backing: [o.width - p.width, o.height - p.height], events: getComputedStyle(o).pointerEvents };
    }"""
    )
    assert all(abs(geo[k]) < 1 for k in ("dx", "dy", "dw", "dh")), geo
    assert geo["backing"] == [0, 0] and geo["events"] == "none", geo


@pytest.mark.parametrize("number", ["42", "2026", "7"])
def test_a_drawn_number_is_read_whole(page, model, number):
    ns.drawn(page, lambda: ns.draw_number(page, number))
    got = ns.shown(page)
    assert got["prediction"] == number, got
    reading, boxes = cpython_reading(page, model)
    assert reading.text == number  # the strokes are fair: CPython reads them too
    # One glyph button per digit, each with its own confidence, as read_number gave it.
    assert [g["label"] for g in got["glyphs"]] == list(number), got["glyphs"]
    assert [g["confidence"] for g in got["glyphs"]] == [wording.percent(d.confidence) for d in reading.digits]
    # The boxes drawn are read_number's, left to right, in the pixels of the ink canvas.
    assert [d["box"] for d in got["boxes"]["digits"]] == boxes
    assert [d["label"] for d in got["boxes"]["digits"]] == [int(c) for c in number]
    drawn = ns.overlay_ink(page)
    assert drawn["total"] > 0 and drawn["edges"] == [True] * len(number), drawn
    # The bars and the preview show the first digit.
    assert got["best"] == int(number[0]), got
    if len(number) > 1:
        assert re.fullmatch(rf"{len(number)} digits, least sure \d+%", page.text_content("#confidence"))
    else:
        assert re.fullmatch(r"\d+% sure", page.text_content("#confidence"))


def test_choosing_a_digit_shows_it_in_the_bars(page):
    ns.drawn(page, lambda: ns.draw_number(page, "42"))
    assert ns.shown(page)["best"] == 4
    before = page.evaluate("window.digitsStats.count")
    page.locator("#digits button.glyph").nth(1).click()
    # The worker answers the click a moment later, with the bars, the preview and the boxes in one batch.
    pagekit.wait_for(page, "document.querySelector('#digits button.glyph[data-index=\"1\"]').ariaPressed === 'true'")
    got = ns.shown(page)
    assert got["best"] == 2, got
    assert [g["pressed"] for g in got["glyphs"]] == ["false", "true"]
    assert got["boxes"]["selected"] == 1
    assert got["prediction"] == "42"
    assert page.evaluate("window.digitsStats.count") == before  # choosing is not a new reading
    widths = page.eval_on_selector_all("#bars .fill", "els => els.map(e => parseFloat(e.style.width))")
    assert pagekit.bars_add_up(widths) and max(range(10), key=lambda i: widths[i]) == 2, widths


def test_clearing_removes_the_boxes(page):
    ns.drawn(page, lambda: ns.draw_number(page, "42"))
    assert ns.overlay_ink(page)["total"] > 0
    page.click("#clear")
    pagekit.wait_for(page, "document.getElementById('prediction').textContent === ''")
    assert ns.overlay_ink(page)["total"] == 0
    assert ns.shown(page)["glyphs"] == []


@pytest.mark.parametrize("shape", sorted(ns.SHAPES))
def test_a_mark_that_is_no_digit_shows_what_read_number_says(page, model, shape):
    """Letters, a scribble, a dot, a tick: the page shows exactly what read_number (reject=True) reads
    for the same pixels; when no glyph is a digit, #prediction is empty and the page says so in words."""
    ns.drawn(page, lambda: ns.draw_digit(page, ns.SHAPES[shape]))
    got = ns.shown(page)
    reading, boxes = cpython_reading(page, model)
    assert got["prediction"] == expected_prediction(reading), (got, reading)
    assert [g["label"] for g in got["glyphs"]] == ["?" if d.label is None else str(d.label) for d in reading.digits]
    assert [d["box"] for d in got["boxes"]["digits"]] == boxes
    if any(d.label is None for d in reading.digits):
        assert "not a digit" in got["message"].lower(), got
        assert page.locator("#message.unsure").count() == 1
    else:
        assert "not a digit" not in got["message"].lower(), got


def test_a_plus_sign_is_not_a_digit(page, model):
    """A mark the shipped model already refuses (its rule: top probability below one half)."""
    plus = [[(0.3, 0.5), (0.7, 0.5)], [(0.5, 0.3), (0.5, 0.7)]]
    ns.drawn(page, lambda: ns.draw_digit(page, plus))
    got = ns.shown(page)
    assert got["prediction"] == "", got
    assert got["message"] == "That is not a digit.", got
    assert [g["label"] for g in got["glyphs"]] == ["?"] and got["glyphs"][0]["confidence"] == "not a digit"
    assert got["boxes"]["digits"][0]["label"] is None
    assert ns.overlay_ink(page)["edges"] == [True]
    assert page.text_content("#confidence") == ""
    reading, _ = cpython_reading(page, model)
    assert reading.text == "?"  # CPython agrees


def test_a_digit_beside_a_mark_reads_with_a_question_mark(page, model):
    """A plus after a 4: '4?' is exactly what was read, and the page names the mark that is no digit."""
    ratio = ns.aspect(page)
    four = ns.place(ns.DIGITS[4], ratio, ratio / 2 - 0.75, 0.7)
    plus = ns.place([[(0.3, 0.5), (0.7, 0.5)], [(0.5, 0.3), (0.5, 0.7)]], ratio, ratio / 2 + 0.05, 1.0)
    ns.drawn(page, lambda: pagekit.draw_mouse(page, four + plus))
    got = ns.shown(page)
    reading, _ = cpython_reading(page, model)
    assert got["prediction"] == expected_prediction(reading) == reading.text, (got, reading)
    if reading.text == "4?":  # the shipped model's reading; a retrained one may differ, the page must follow
        assert got["message"] == "The second mark is not a digit (shown as ?).", got
        assert [g["label"] for g in got["glyphs"]] == ["4", "?"]


def test_longest_task_during_a_prediction(page, record_property):
    """The main thread stays free while a 4-digit number is drawn and read live: no task over 200 ms.

    Reading runs in the worker (web/compute.js); live readings go out while the pen moves, one
    in flight at a time (web/bridge.js). Measured with a PerformanceObserver for "longtask" entries
    (tasks over 50 ms), printed and recorded (pytest -s, or the junit report's properties).
    """
    page.evaluate(pagekit.LONG_TASKS_FROM_NOW)
    before = page.evaluate("window.digitsStats.timings.length")
    t0 = page.evaluate("performance.now()")
    ns.drawn(page, lambda: ns.draw_number(page, "2026"))
    t1 = page.evaluate("performance.now()")
    assert pagekit.prediction(page) == "2026"
    page.evaluate("window.digitPad.send(true)")  # one more reading of the whole number on its own
    pagekit.wait_for(page, f"window.digitsStats.timings.length > {before + 1}")
    page.wait_for_timeout(200)  # long task entries arrive after the task
    tasks = pagekit.long_tasks(page)
    readings = page.evaluate(f"window.digitsStats.timings.slice({before})")
    longest = max(tasks + [0.0])
    report = (
        f"longest main-thread task {longest:.0f} ms ({len(tasks)} over 50 ms in {t1 - t0:.0f} ms of drawing); "
        f"{len(readings)} readings in the worker: slowest {max(readings):.0f} ms, "
        f"median {sorted(readings)[len(readings) // 2]:.0f} ms"
    )
    print("\n" + report)
    record_property("longest_task_ms", round(longest))
    record_property("long_tasks", report)
    assert longest <= 200, report
    assert len(readings) >= 3, report  # live readings while drawing, not only the final one


def test_an_opened_photo_of_a_number_is_read_with_boxes_over_it(page, model, mnist_test):
    """A scan of three MNIST test digits side by side: read whole, boxes drawn over the picture."""
    import sys

    import numpy as np

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "web"))
    import ink

    images, labels = mnist_test
    probs = model.predict_proba(images[:100])
    picked = [i for i in range(100) if probs[i].argmax() == labels[i] and probs[i].max() > 0.95][:3]
    strip = np.concatenate([np.pad(images[i], ((20, 20), (4, 4))) for i in picked], axis=1)  # taller than the pad
    scan = np.kron(255 - strip, np.ones((3, 3), np.uint8))  # dark ink on white paper, 3x larger
    png = pagekit.png_gray(scan.tolist())
    page.set_input_files("#file", files=[{"name": "number.png", "mimeType": "image/png", "buffer": png}])
    pagekit.wait_for(page, "window.digitPad.boxes && window.digitPad.boxes.kind === 'image'")
    got = ns.shown(page)
    # The same pixels through the same code in CPython.
    w, h, r = page.evaluate(
        "() => { const i = window.digitPad.image; return [i.width, i.height, Array.from(i.rgba)]; }"
    )
    reading = engine_reading(model, ink.image_gray(ink.rgba_array(bytes(r), w, h)))
    assert got["prediction"] == reading.text == "".join(str(int(labels[i])) for i in picked), (got, reading)
    assert [d["box"] for d in got["boxes"]["digits"]] == [list(d.box) for d in reading.digits]
    drawn = ns.overlay_ink(page)
    assert drawn["edges"] == [True] * 3, drawn


def engine_reading(model, gray):
    import engine

    return engine.read_number(model, gray)
