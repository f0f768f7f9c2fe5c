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
