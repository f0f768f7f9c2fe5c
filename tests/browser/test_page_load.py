"""The page loads from the local server, reports its progress, and starts in a sensible state."""

import re

import number_strokes

import pagekit


def test_loading_reports_each_step_and_the_time_it_took(visit):
    v = visit(viewport={"width": 1100, "height": 900})
    page = v.open(wait_ready=False)
    # The pad is usable before Python is: the first status names the runtime.
    assert page.locator("#pad").is_visible()
    pagekit.wait_ready(page)
    steps = [step for step, _ms in page.evaluate("window.digitsLoader.history")]
    assert steps[0] == "runtime" and steps[-1] == "ready", steps
    for step in ("numpy", "engine", "model"):
        assert step in steps, f"loading never reported the {step!r} step: {steps}"
    status = page.text_content("#load-status")
    assert re.search(r"Ready in \d+(\.\d)? s", status), status


STATUS_TEXTS = """
window.__status = [];
addEventListener('DOMContentLoaded', () => {
  const el = document.getElementById('load-status');
  new MutationObserver(() => window.__status.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
});
"""


def test_loading_says_how_much_of_the_runtime_has_arrived(visit):
    """While the runtime downloads the header counts its bytes: "… 3.1 of 15.6 MB (20%)", rising to 100%."""
    v = visit(viewport={"width": 1100, "height": 900}, service_workers="block")
    v.context.add_init_script(STATUS_TEXTS)
    page = v.open()
    shown = page.evaluate("window.__status")
    percents = [int(m.group(1)) for t in shown if (m := re.search(r"of \d+\.\d MB \((\d+)%\)$", t))]
    assert len(percents) >= 2 and percents == sorted(percents), shown
    assert percents[-1] >= 95, shown  # the counted files are the ones precache.json sizes


def test_empty_pad_shows_a_hint_not_a_guess(page):
    assert pagekit.prediction(page) == ""
    assert page.text_content("#message") == "Your answer appears here as you write."
    assert page.locator(".pad-hint").is_visible()
    assert page.text_content("#confidence") == ""


def test_model_panel_explains_the_model_in_plain_words(page, model_card):
    """What the network is (its layers with their sizes), how it was trained, how accurate it is per digit,
    that it runs on the device; every field of the card under "All the details"."""
    import sys

    import engine
    from conftest import MODEL, ROOT

    sys.path.insert(0, str(ROOT / "web"))
    sys.path.append(str(ROOT / "digits"))  # after web/: digits/gallery.py must not shadow web/gallery.py
    import about_model

    steps = about_model.layer_steps(engine.load_model(MODEL).architecture)
    page.click("#model-panel summary")
    panel = page.locator("#model-card")
    text = panel.inner_text()
    assert "on your device" in text and "never saw while learning" in text, text
    assert "Trained with" not in text and "Architecture: " not in text  # the log-like rows are in the details
    sizes = page.eval_on_selector_all("#model-card .layers .layer-size", "els => els.map(e => e.textContent)")
    assert sizes == [size for _, size in steps] and len(sizes) >= 4, sizes
    cells = page.eval_on_selector_all("#model-card .digit-accuracy li", "els => els.map(e => e.textContent)")
    per = model_card.get("per_class_accuracy")
    if per:
        assert len(cells) == 10 and cells[9] == f"9{float(per[9]):.1%}", cells
    page.click("#model-card details summary")
    details = panel.inner_text()
    if "test_accuracy" in model_card:
        assert f"{float(model_card['test_accuracy']):.2%}" in details
    assert "Trained with" in details
    page.click("#model-card details summary")
    page.click("#model-panel summary")  # close it again for the next test


def test_prediction_is_announced_and_controls_are_labelled(page):
    live = page.locator(".answer")
    assert live.get_attribute("aria-live") == "polite"
    assert page.locator("#prediction").evaluate("el => el.closest('[aria-live]') !== null")
    for sel in ("#undo", "#clear"):
        assert page.locator(sel).inner_text().strip()
    assert page.locator("label[for=file]").inner_text().strip()
    assert page.locator("#pad").get_attribute("aria-label")
    # Tab order reaches the controls.
    focused = []
    page.locator("body").focus()
    for _ in range(8):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    for want in ("pad", "undo", "clear", "file"):
        assert want in focused, f"{want} not reachable with Tab: {focused}"


def test_drawing_works_before_python_is_ready(visit):
    """Strokes made while the runtime loads are kept, and predicted as soon as the model is ready."""
    v = visit(viewport={"width": 1100, "height": 900})
    page = v.open(wait_ready=False)
    page.wait_for_selector("#pad", state="visible")
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    assert page.evaluate("window.digitPad.strokes.length") == 1
    assert page.locator(".pad-hint").is_hidden()
    pagekit.wait_ready(page)
    assert pagekit.wait_prediction(page, "1") == "1"


def test_drawing_during_loading_is_read_at_once_without_a_warm_up(visit):
    v = visit(viewport={"width": 1100, "height": 900}, service_workers="block")
    page = v.open(wait_ready=False)
    page.wait_for_selector("#pad", state="visible")
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[7])
    pagekit.wait_ready(page)
    assert pagekit.wait_prediction(page, "7") == "7"
    page.wait_for_timeout(500)
    assert page.evaluate("window.digitsStats['warm-up'] || null") is None


def test_with_nothing_drawn_python_warms_its_reader_unseen(visit):
    """At ready with an empty pad, web/main.py reads a made-up number once, so the user's first reading
    is not the one that runs NumPy's code for the first time (web/bridge.js asks for it); nothing of it
    shows."""
    v = visit(viewport={"width": 1100, "height": 900}, service_workers="block")
    page = v.open()
    warm = pagekit.wait_for(page, "window.digitsStats['warm-up']?.length ? window.digitsStats['warm-up'] : null")
    assert len(warm) == 1 and warm[0] > 0
    assert page.evaluate("window.digitsStats.count") == 0 and pagekit.prediction(page) == ""
    assert page.evaluate("document.getElementById('digits').children.length") == 0
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    assert pagekit.wait_prediction(page, "1") == "1"


def test_a_missing_model_is_reported_not_spun_on(visit):
    v = visit(service_workers="block")
    v.context.route("**/models/mnist_int8.npz", lambda route: route.fulfill(status=404, body="not found"))
    page = v.open(wait_ready=False)
    page.wait_for_selector("html.py-failed", state="attached", timeout=pagekit.READY_TIMEOUT_MS)
    assert "Could not load the model" in page.text_content("#load-status")
    assert pagekit.prediction(page) == ""
    # A Retry button reloads the page; with the model back, it loads.
    v.context.unroute("**/models/mnist_int8.npz")
    page.click("#load-retry")
    pagekit.wait_ready(page)
    assert page.locator("#load-retry").is_hidden()


def test_what_the_worker_says_before_the_page_listens_is_kept(visit):
    """web/worker_start.js starts the worker as the page begins to load, before web/bridge.js (the last
    of the page's modules) listens to it: what the worker says meanwhile is kept and handed over. Here
    bridge.js is held back for seconds, long after the worker's first messages."""
    v = visit(viewport={"width": 1100, "height": 900}, service_workers="block")
    held = []
    v.context.route("**/web/bridge.js", lambda route: held.append(route))
    page = v.page
    page.goto(v.base_url, wait_until="commit")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page never asked for web/bridge.js"
    page.wait_for_timeout(4000)  # the worker reports its first step within ~0.1 s of starting
    assert not page.evaluate("document.documentElement.classList.contains('py-ready')")
    held[0].continue_()
    pagekit.wait_ready(page)
    steps = [step for step, _ms in page.evaluate("window.digitsLoader.history")]
    assert steps[0] == "runtime" and steps[-1] == "ready", steps
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    assert pagekit.wait_prediction(page, "1") == "1"
