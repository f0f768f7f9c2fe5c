"""A 360 px wide touch phone: the layout fits and a finger can draw."""

import pytest

import pagekit

PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=3, is_mobile=True, has_touch=True)


@pytest.fixture(scope="module")
def phone(browser, site_url):
    from conftest import Visit

    v = Visit(browser, site_url, **PHONE)
    v.open()
    yield v
    v.close()


def test_layout_fits_360px(phone):
    page = phone.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = pagekit.pad_box(page)
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["width"] >= 260, f"pad is only {box['width']} px wide"
    assert 0.9 <= box["width"] / box["height"] <= 1.4, f"the pad should stay square-ish on a phone: {box}"
    # High-DPI: the canvas has device pixels, not CSS pixels.
    backing = page.evaluate("document.getElementById('pad').width")
    assert backing >= box["width"] * 2.9
    # The pad takes every touch (no scrolling or zooming while drawing).
    assert page.eval_on_selector("#pad", "el => getComputedStyle(el).touchAction") == "none"
    for sel in ("#undo", "#clear", "label[for=file]"):
        b = page.locator(sel).bounding_box()
        assert b["x"] + b["width"] <= 360 and b["height"] >= 40, (sel, b)


def test_touch_drawing_predicts(phone):
    page = phone.page
    page.evaluate("window.digitPad.clear()")
    cdp = phone.context.new_cdp_session(page)
    page.evaluate("document.getElementById('pad').addEventListener('pointerdown', e => window.__ptype = e.pointerType)")
    pagekit.draw_touch(page, cdp, pagekit.DIGIT_STROKES[7])
    assert pagekit.wait_prediction(page, "7") == "7"
    assert page.evaluate("window.__ptype") == "touch"
    assert page.evaluate("window.scrollY") == 0, "drawing scrolled the page"


def test_phone_screenshot(phone, tmp_path):
    """Not an assertion on pixels: keeps a screenshot to look at when the layout changes."""
    path = tmp_path / "phone.png"
    phone.page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_at_360x740_the_answer_and_all_bars_are_above_the_fold(phone):
    import number_strokes as ns

    page = phone.page
    page.evaluate("window.digitPad.clear(); window.scrollTo(0, 0)")
    ns.drawn(page, lambda: ns.draw_digit(page, ns.DIGITS[3]))
    geo = page.evaluate(
        """() => {
        const r = (s) => document.querySelector(s).getBoundingClientRect();
        const t = document.getElementById('timing');
        return { bars: r('#bars').bottom, answer: r('.answer').bottom, fold: innerHeight,
                 timing: t.getBoundingClientRect().height, line: parseFloat(getComputedStyle(t).lineHeight) || 16 };
    }"""
    )
    assert geo["bars"] <= geo["fold"] and geo["answer"] <= geo["fold"], geo
    assert geo["timing"] < 1.6 * geo["line"], f"the timing line wraps: {geo}"


def test_the_heading_the_pad_hint_and_the_empty_answer_say_different_things(phone):
    page = phone.page
    page.evaluate("window.digitPad.clear()")
    texts = [page.text_content(s).strip() for s in ("#pad-title", ".pad-hint", "#message")]
    assert all(texts) and len(set(texts)) == 3, texts
    assert not any(t.startswith("Draw a digit") for t in texts[1:]), texts
