"""Teach it your handwriting (issue 16), on the real page: teach, learn, read, keep, forget, export, import.

One browser context for the module (its IndexedDB and service worker carry the personal model
from one test to the next; the tests run in file order, each building on the last):

- one writer's 1s with a long, flat flag (``flat_flag_ones``: tests/test_personalize.py's writer as
  pen strokes), which the shipped model mostly reads as 7, are drawn with the mouse as
  test_styles_on_pad.py draws its samples; five of them are taught with the "It was a ..." buttons
  and the 1 key, Learn runs, and the HELD_OUT ones (never taught) are drawn before and after: more
  of them must read "1" after, and what the
  page shows must be engine.read_number of the page's own pixels with the model it exported,
  which must be engine.personalize's model of the exported examples in CPython, bit for bit;
- while Learn runs no task is longer than 100 ms (PerformanceObserver 'longtask') and a digit
  drawn meanwhile is read;
- a reload with the network off still predicts with the personal model;
- a hostile import (a model file with a pickle inside) is refused and the model stays;
- Forget goes back to the shipped model, and an import of the exported files brings it back;
- a damaged store falls back to the shipped model with a message.
"""

from __future__ import annotations

import sys
import zipfile

import number_strokes as ns
import numpy as np
import pytest
from test_styles_on_pad import draw_points, unit_strokes

import pagekit
from conftest import MODEL, ROOT, Visit

sys.path.insert(0, str(ROOT / "tests"))
import stroke_files  # noqa: E402

# The writer's style and digit. Slashed zeros were taught until the model of 2026-12-03, which reads
# them (it misreads 1 of the stroke set's 16, and 5 examples of the long-flag 1s it misreads do not fix them).
STYLE, LABEL = "1-flat-flag", "1"
TAUGHT_BY_BUTTON, TAUGHT_BY_KEY = (1, 2, 3), (4, 8)
# Read as 7 in CPython's rendering by the shipped model of 2026-12-03 (11 of the 16 are), never taught;
# CPython's personalize of the five taught reads three of them right.
HELD_OUT = (0, 5, 9, 12)
STATE = {}  # what one test leaves for the next: files, readings

PANEL = "document.getElementById('teach-panel').dataset"
# The panel's state at each pad reading (this listener runs after the page's own, which reads the pad).
INK_STATES = """() => {
    window.__inkStates = [];
    document.getElementById('pad').addEventListener('ink',
        () => window.__inkStates.push(document.getElementById('teach-panel').dataset.state));
}"""


@pytest.fixture(scope="module")
def visit_once(browser, site_url):
    v = Visit(browser, site_url, viewport={"width": 1100, "height": 1000}, accept_downloads=True)
    v.open()
    yield v
    print("\n".join(["console:"] + v.console[-30:]))
    v.close()


@pytest.fixture
def page(visit_once):
    p = visit_once.page
    clear(p)
    return p


def flat_flag_ones(count: int = 16, seed: int = 16) -> list[stroke_files.Sample]:
    """One writer's 1s with a long flat flag as pad strokes: digits/styles.py's pen paths (the long-flag
    writer of tests/synthetic_writers.py), 110-190 px tall on the 280 px pad, slanted up to 12 degrees,
    placed about the middle, a point every 5 px."""
    from digits import styles
    from synthetic_writers import long_flag_one

    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        (line,) = [styles._dense(stroke) for stroke in long_flag_one(rng)]
        height, slant = rng.uniform(110, 190), np.tan(np.deg2rad(rng.uniform(-12, 12)))
        cx, cy = rng.uniform(110, 170), rng.uniform(120, 160)
        pad = np.stack([cx + (line[:, 0] - slant * line[:, 1]) * height, cy + line[:, 1] * height], axis=1)
        points = np.round(styles._resample(pad, 5.0)).astype(int).tolist()
        out.append(stroke_files.Sample(STYLE, int(LABEL), [points], stroke_files.INK_SIZE, stroke_files.PAD_PEN, i))
    return out


@pytest.fixture(scope="module")
def samples():
    return flat_flag_ones()


@pytest.fixture(scope="module")
def shipped():
    import engine

    return engine.load_model(MODEL)


def clear(page) -> None:
    page.evaluate("window.scrollTo(0, 0); window.digitPad.clear()")
    pagekit.wait_for(page, "document.getElementById('prediction').textContent === ''")


def draw(page, sample) -> str:
    """Draw a sample on an empty pad as the mouse would; return what #prediction shows."""
    clear(page)
    ns.drawn(page, lambda: draw_points(page, ns.centered(unit_strokes(sample), ns.aspect(page))))
    return page.text_content("#prediction")


def examples_shown(page) -> list[str]:
    return page.eval_on_selector_all("#examples .example-label", "els => els.map((e) => e.textContent)")


def wait_examples(page, labels: list[str]) -> list[str]:
    """Wait until the strip shows ``labels`` (the worker answers a press a moment later); return what it shows."""
    try:
        pagekit.wait_for(
            page,
            "(want) => [...document.querySelectorAll('#examples .example-label')]"
            ".map((e) => e.textContent).join() === want.join()",
            arg=labels,
            timeout=5_000,
        )
    except TimeoutError:
        pass  # the assertion that follows says what the strip shows
    return examples_shown(page)


def read_held_out(page, samples) -> list[tuple[str, np.ndarray]]:
    out = []
    for i in HELD_OUT:
        shown = draw(page, samples[i])
        out.append((shown, ns.pad_gray(page)[0]))
    return out


def test_teach_learn_and_read_the_style(page, samples, shipped, tmp_path_factory, visit_once, record_property):
    import engine

    before = read_held_out(page, samples)
    for i in TAUGHT_BY_BUTTON:
        draw(page, samples[i])
        page.click(f"#teach-{LABEL}")
    for i in TAUGHT_BY_KEY:
        draw(page, samples[i])
        page.focus("#pad")
        page.keyboard.press(LABEL)
    # Pressing another digit for the same drawing relabels it, then back.
    page.keyboard.press("6")
    assert wait_examples(page, [LABEL] * 4 + ["6"]) == [LABEL] * 4 + ["6"]
    page.keyboard.press(LABEL)
    assert wait_examples(page, [LABEL] * 5) == [LABEL] * 5
    assert page.evaluate(f"{PANEL}.model") == "shipped"

    # Learn, with nothing else going on: no task on the page may be longer than 100 ms.
    clear(page)
    page.evaluate(pagekit.LONG_TASKS_FROM_NOW)
    page.click("#learn")
    pagekit.wait_for(page, f"{PANEL}.state === 'learning'")
    assert page.is_visible("#learn-progress") and page.is_visible("#learn-cancel")
    pagekit.wait_for(page, f"{PANEL}.state === 'idle'", timeout=120_000)
    pagekit.wait_for(page, f"{PANEL}.model === 'personal'")
    page.wait_for_timeout(300)  # long-task entries arrive after their task
    longest = max(pagekit.long_tasks(page) + [0.0])
    tasks = page.evaluate("Array.from(window.digitsStats.learn)")
    notes = page.evaluate("Array.from(window.digitsStats.teach)")
    assert page.is_visible("#personal-mark")
    message = page.text_content("#teach-message")
    assert "of your 5 examples right; before," in message, message
    bound = f"learning: {len(tasks)} tasks, longest {max(tasks):.0f} ms, longest task on the page {longest:.0f} ms"
    # The page itself: never a task over 100 ms (Python learns in its worker). The worker's own tasks
    # bound how long new ink waits to be read while learning: pieces of 20-70 ms, more on a loaded machine.
    assert longest <= 100 and max(tasks) <= 500, bound

    # Learn again (the same examples give the same model) and draw meanwhile: the pad is read while it runs.
    page.evaluate(INK_STATES)
    page.click("#learn")
    page.evaluate("window.scrollTo(0, 0)")  # clicking Learn scrolled the pad away
    ns.drawn(page, lambda: ns.draw_digit(page, ns.DIGITS[7]))
    read_while_learning = page.evaluate("window.__inkStates").count("learning")
    seven = page.text_content("#prediction")
    pagekit.wait_for(page, f"{PANEL}.state === 'idle'", timeout=120_000)
    # And once more, cancelled at once: the personal model stays as it was (the export below checks its bits).
    page.click("#learn")
    pagekit.wait_for(page, f"{PANEL}.state === 'learning'")
    page.click("#learn-cancel")
    pagekit.wait_for(page, "document.getElementById('teach-message').textContent.includes('cancelled')")
    assert page.evaluate(f"{PANEL}.state") == "idle"
    assert page.evaluate(f"{PANEL}.model") == "personal"

    after = read_held_out(page, samples)
    report = (
        f"{bound}, other tasks {[n for n in notes if n.split()[0] in ('save', 'finish', 'learned')]}, "
        f"longest pieces {sorted((n for n in notes if n.startswith('piece')), key=lambda n: -float(n.split()[1]))[:3]}; {read_while_learning} pad readings while "
        f"learning again; held-out {STYLE} {HELD_OUT}: before {[s for s, _ in before]}, after {[s for s, _ in after]}; "
        f"{message}"
    )
    print("\n" + report)
    record_property("teach", report)
    assert read_while_learning and seven == "7", report
    right_before = sum(s == LABEL for s, _ in before)
    right_after = sum(s == LABEL for s, _ in after)
    assert right_after > right_before and right_after >= len(HELD_OUT) / 2, report

    # Export: the page's personal model and examples, checked in CPython.
    folder = tmp_path_factory.mktemp("export")
    downloads = []
    page.on("download", lambda d: downloads.append(d))
    page.click("#export")
    for _ in range(100):
        if len(downloads) == 2:
            break
        page.wait_for_timeout(100)
    files = {}
    for d in downloads:
        files[d.suggested_filename] = folder / d.suggested_filename
        d.save_as(files[d.suggested_filename])
    assert sorted(files) == ["digits-examples.npz", "digits-personal-model.npz"], files
    mine = engine.load_model(files["digits-personal-model.npz"])
    x, y = engine.load_examples(files["digits-examples.npz"])
    assert y.tolist() == [int(LABEL)] * 5 and x.shape == (5, 28, 28)
    again = engine.personalize(shipped, x, y, rng=np.random.default_rng(0))
    differ = [k for k, v in again.arrays.items() if not np.array_equal(v, mine.arrays[k])]
    assert not differ, f"the page's personal model differs from CPython's in {differ}"
    for shown, gray in after:
        reading = engine.read_number(mine, gray)
        assert shown == (reading.text if any(d.label is not None for d in reading.digits) else "")
    STATE.update(files=files, after=after)


def test_reload_offline_keeps_the_personal_model(page, samples, visit_once):
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    pagekit.wait_for(page, "navigator.serviceWorker.controller !== null", timeout=30_000)
    visit_once.context.set_offline(True)
    try:
        page.reload()
        pagekit.wait_ready(page)
        pagekit.wait_for(page, f"{PANEL}.model === 'personal'", timeout=30_000)
        assert page.is_visible("#personal-mark")
        assert examples_shown(page) == [LABEL] * 5
        shown = draw(page, samples[HELD_OUT[0]])
        assert shown == STATE["after"][0][0]
        assert page.evaluate("navigator.onLine") is False
    finally:
        visit_once.context.set_offline(False)


def test_a_hostile_import_is_refused_and_the_model_stays(page, samples, tmp_path):
    evil = tmp_path / "evil.npz"
    with zipfile.ZipFile(STATE["files"]["digits-personal-model.npz"]) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("payload.pkl", b"cos\nsystem\n(S'echo owned'\ntR.")
    page.set_input_files("#import-file", str(evil))
    pagekit.wait_for(page, "document.getElementById('teach-message').textContent.startsWith('Could not import')")
    message = page.text_content("#teach-message")
    assert "evil.npz" in message and "payload.pkl" in message and "current model is kept" in message, message
    assert page.evaluate(f"{PANEL}.model") == "personal"
    assert draw(page, samples[HELD_OUT[0]]) == STATE["after"][0][0]


def test_forget_then_import_the_exported_files(page, visit_once):
    page.click("#forget")
    pagekit.wait_for(page, f"{PANEL}.model === 'shipped'")
    assert examples_shown(page) == [] and not page.is_visible("#personal-mark")
    page.reload()
    pagekit.wait_ready(page)
    page.wait_for_timeout(500)  # the store is read after the page is ready
    assert page.evaluate(f"{PANEL}.model") == "shipped" and examples_shown(page) == []
    page.set_input_files("#import-file", str(STATE["files"]["digits-examples.npz"]))
    pagekit.wait_for(page, f"{PANEL}.examples === '5'")
    page.set_input_files("#import-file", str(STATE["files"]["digits-personal-model.npz"]))
    pagekit.wait_for(page, f"{PANEL}.model === 'personal'")
    assert page.is_visible("#personal-mark")


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (
            "{format: 1, model: new Uint8Array([80, 75, 3, 4, 1, 2, 3]), labels: new Uint8Array(0),"
            " pixels: new Uint8Array(0), strokes: '[]'}",
            "not a valid .npz",
        ),
        ("{format: 0, examples: []}", "format 0"),
    ],
    ids=["half-written model", "older format"],
)
def test_a_damaged_store_falls_back_to_the_shipped_model(page, visit_once, record, why):
    page.evaluate(f"window.digitsStore.put({record})")
    page.reload()
    pagekit.wait_ready(page)
    pagekit.wait_for(page, "document.getElementById('teach-message').textContent.includes('could not be read')")
    message = page.text_content("#teach-message")
    assert why in message and "using the shipped model" in message, message
    assert page.evaluate(f"{PANEL}.model") == "shipped" and not page.is_visible("#personal-mark")
    ns.drawn(page, lambda: ns.draw_digit(page, ns.DIGITS[7]))
    assert page.text_content("#prediction") == "7"
