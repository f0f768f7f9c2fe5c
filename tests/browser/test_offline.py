"""After one visit the service worker has everything: the page reloads and predicts with no network."""

import json

import number_strokes

import pagekit
from conftest import SITE

# The service worker answers from caches; these are the URLs a page load must not miss.
CACHED_URLS = """async () => {
    const urls = [];
    for (const name of await caches.keys()) {
        for (const req of await (await caches.open(name)).keys()) urls.push(req.url);
    }
    return urls;
}"""


def first_visit(visit):
    v = visit(viewport={"width": 1000, "height": 800})
    page = v.open()
    # Wait until the worker has installed (precache done) and controls the page.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    pagekit.wait_for(page, "navigator.serviceWorker.controller !== null", timeout=30_000)
    return v, page


def test_chromium_finds_the_app_installable(visit):
    v, page = first_visit(visit)
    cdp = v.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's contexts are incognito-like, which Chromium always lists; nothing else may be.
    assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors


def test_reload_offline_still_predicts(visit):
    v, page = first_visit(visit)
    v.context.set_offline(True)
    try:
        v.requests.clear()
        page.reload()
        pagekit.wait_ready(page)
        number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[7])
        assert pagekit.wait_prediction(page, "7") == "7"
        assert page.evaluate("navigator.onLine") is False
    finally:
        v.context.set_offline(False)


def test_every_file_the_page_loads_is_precached(visit):
    v, page = first_visit(visit)
    cached = set(page.evaluate(CACHED_URLS))
    loaded = {u.split("#")[0] for u in v.requests if u.startswith(v.base_url)}
    missing = sorted(u for u in loaded if u not in cached and not u.endswith(".map"))
    assert not missing, f"loaded but not precached: {missing}"
    # The runtime sits in one cache named after the vendor lock's version.
    version = json.loads((SITE / "web" / "vendor" / "precache.json").read_text())["version"]
    names = page.evaluate("caches.keys()")
    assert [n for n in names if n.startswith("digits-vendor-")] == [f"digits-vendor-{version}"], names


def test_precache_list_names_the_runtime_and_existing_files():
    doc = json.loads((SITE / "web" / "vendor" / "precache.json").read_text())
    urls = [f["url"] for f in doc["files"]]
    for needed in (
        "web/vendor/pyodide/pyodide.asm.wasm",
        "web/vendor/pyodide/python_stdlib.zip",
        "web/vendor/pyodide/pyodide-lock.json",
        "web/vendor/pyodide/pyodide.mjs",
        "web/vendor/pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
    ):
        assert needed in urls
    for url in urls:
        assert (SITE / url).is_file(), url
    sw = (SITE / "web" / "sw.js").read_text()
    for name in (
        "index.html",
        "pyscript.toml",
        "web/pad.js",
        "web/pad_strokes.js",
        "web/pad_image.js",
        "web/pad_heat.js",
        "web/loader.js",
        "web/style.css",
        "web/manifest.webmanifest",
        *(f"web/{p.name}" for p in (SITE / "web").glob("*.js")),  # every module the page imports
    ):
        assert f'"{name}"' in sw, f"web/sw.js APP_FILES lacks {name}"


def test_web_app_manifest_is_installable(visit):
    v = visit()
    page = v.open(wait_ready=False)
    href = page.get_attribute("link[rel=manifest]", "href")
    resp = page.request.get(v.base_url + href)
    assert resp.ok and resp.headers["content-type"].startswith("application/manifest+json")
    manifest = resp.json()
    assert manifest["display"] in ("standalone", "fullscreen", "minimal-ui")
    sizes = {i["sizes"] for i in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert page.request.get(v.base_url + "web/" + icon["src"]).ok, icon


def test_the_footer_says_when_the_page_is_ready_offline(visit):
    v, page = first_visit(visit)
    pagekit.wait_for(page, "document.getElementById('offline-status').textContent.startsWith('Ready for offline use')")
    assert page.locator("html.offline-ready").count() == 1


def test_install_is_offered_where_the_browser_supports_it(visit):
    """Headless Chromium in an incognito-like context never fires beforeinstallprompt, so the test fires one
    the way Chromium does (cancelable, with prompt() and userChoice) and checks what the page does with it."""
    v = visit(viewport={"width": 1000, "height": 800})
    page = v.open(wait_ready=False)
    assert page.locator("#install").is_hidden()  # no offer: no button
    page.evaluate(
        """() => {
        const e = new Event('beforeinstallprompt', { cancelable: true });
        window.__prompted = 0;
        e.prompt = async () => { window.__prompted++; };
        e.userChoice = Promise.resolve({ outcome: 'accepted' });
        dispatchEvent(e);
        window.__defaultPrevented = e.defaultPrevented;
    }"""
    )
    assert page.evaluate("window.__defaultPrevented") is True  # no mini-infobar of its own
    page.click("#install")
    pagekit.wait_for(page, "window.__prompted === 1")
    assert page.locator("#install").is_hidden()
    pagekit.wait_for(page, "document.getElementById('offline-status').textContent.startsWith('Installed')")
