"""Fixtures for the end-to-end tests: one server and one Chromium per test session.

The server (scripts/serve.py) runs in a thread on a free 127.0.0.1 port and
serves the repository root, i.e. the real page with the real engine and model.
Chromium is Debian's /usr/bin/chromium driven by the playwright package (no
`playwright install`).

Missing prerequisites (chromium, the playwright package, web/vendor/, the model)
skip these tests on a developer machine but FAIL them under CI=true: CI must
never pass by not running them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "scripts"))

import pagekit  # noqa: E402

STRICT = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# DIGITS_SITE_DIR=dist runs the same tests against the output of `make site`.
SITE = Path(os.environ.get("DIGITS_SITE_DIR") or ROOT).resolve()
MODEL = SITE / "models" / "mnist_int8.npz"


def require(ok: bool, message: str) -> None:
    """Skip locally, fail in CI."""
    if not ok:
        if STRICT:
            pytest.fail(f"{message} (CI=true: browser tests must run, not skip)", pytrace=False)
        pytest.skip(message)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def site_url():
    """Base URL of the site (the repository root) served on a free port, e.g. http://127.0.0.1:41234/."""
    import serve
    import vendor

    if SITE == ROOT:
        require(
            vendor.is_current(vendor.sha256_bytes(vendor.LOCK_PATH.read_bytes())),
            "web/vendor/ is missing or stale: run `python scripts/vendor.py`",
        )
    require(
        (SITE / "web" / "vendor" / "precache.json").exists(),
        f"{SITE}/web/vendor/ is missing: run `python scripts/vendor.py`",
    )
    require(MODEL.exists(), f"{MODEL} is missing: run `make train`")
    server, thread = serve.start_in_thread(port=0, directory=SITE, quiet=True)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is missing: pip install playwright==1.65.2")
    require(Path(pagekit.CHROMIUM).exists(), f"{pagekit.CHROMIUM} is missing: run `bash scripts/install_chromium.sh`")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=pagekit.CHROMIUM, args=pagekit.CHROMIUM_ARGS)
        yield b
        b.close()


class Visit:
    """A browser context + page that records every request, console error and CSP violation."""

    def __init__(self, browser, base_url: str, **context_options):
        self.base_url = base_url
        self.context = browser.new_context(**context_options)
        self.context.set_default_timeout(20_000)
        self.context.add_init_script(pagekit.INIT_SCRIPT)
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.console: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.context.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    def open(self, path: str = "", wait_ready: bool = True):
        self.page.goto(self.base_url + path)
        if wait_ready:
            try:
                pagekit.wait_ready(self.page)
            except Exception as exc:
                status = self.page.text_content("#load-status")
                raise AssertionError(
                    f"page never became ready (status: {status!r}); console:\n" + "\n".join(self.console[-20:])
                ) from exc
        return self.page

    def csp_violations(self) -> list[dict]:
        return self.page.evaluate("window.__csp")

    def foreign_requests(self) -> list[str]:
        """Requests to anything but the test server (blob:/data: URLs stay inside the page)."""
        return [
            u
            for u in self.requests
            if not (u.startswith(self.base_url) or u.startswith("blob:") or u.startswith("data:"))
        ]

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, site_url):
    """Factory: visit(**context_options) -> a fresh Visit (closed at teardown)."""
    opened = []

    def make(**options):
        v = Visit(browser, site_url, **options)
        opened.append(v)
        return v

    yield make
    for v in opened:
        v.close()


@pytest.fixture(scope="module")
def app(browser, site_url):
    """One loaded desktop page shared by a test module (Pyodide starts once per module)."""
    v = Visit(browser, site_url, viewport={"width": 1100, "height": 900})
    v.open()
    yield v
    v.close()


@pytest.fixture
def page(app):
    """The shared page with an empty pad."""
    app.page.evaluate("window.digitPad.clear()")
    pagekit.wait_for(app.page, "document.getElementById('prediction').textContent === ''")
    return app.page


@pytest.fixture(scope="session")
def mnist_test():
    """(images, labels) of MNIST's test set, from the cache `python -m digits.mnist fetch` fills."""
    sys.path.insert(0, str(ROOT))
    try:
        from digits.mnist import load_mnist

        data = load_mnist(log=lambda *a: None)
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        require(False, f"MNIST is not available ({exc}): run `python -m digits.mnist fetch`")
    return data["test_images"], data["test_labels"]


@pytest.fixture(scope="session")
def model_card():
    """The card inside the shipped model file, which is what the page shows."""
    import engine

    return engine.load_model(SITE / "models" / "mnist_int8.npz").card
