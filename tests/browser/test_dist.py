"""The output of `make site` works on its own, served from another directory by scripts/serve.py,
which sends its precompressed copies to a browser that accepts them."""

import sys

import number_strokes
import pytest

import pagekit
from conftest import ROOT, Visit

sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402
import serve  # noqa: E402

SENT: list[dict] = []  # every response the dist server sends (scripts/serve.py's log)


@pytest.fixture(scope="module")
def dist_url(tmp_path_factory):
    """The URL of a fresh `make site` build (with its .gz/.br copies) served by scripts/serve.py."""
    out = tmp_path_factory.mktemp("site") / "dist"
    build_site.build(out, log=lambda *a: None)
    server, _ = serve.start_in_thread(0, out, quiet=True, log=SENT)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_built_site_loads_and_predicts_by_itself(browser, site_url, dist_url):
    v = Visit(browser, dist_url)
    page = v.open()
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    assert pagekit.wait_prediction(page, "1") == "1"
    assert not v.foreign_requests(), v.foreign_requests()
    assert not [u for u in v.failed if "sw.js" not in u], v.failed
    v.close()


def test_built_site_loads_compressed_and_predicts(browser, site_url, dist_url):
    v = Visit(browser, dist_url, service_workers="block")
    codings: dict[str, str | None] = {}
    v.page.on("response", lambda r: codings.__setitem__(r.url, r.headers.get("content-encoding")))
    page = v.open()
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    assert pagekit.wait_prediction(page, "1") == "1"
    assert not v.failed, v.failed
    want = "br" if build_site.brotli is not None else "gzip"
    by_name = {url.rsplit("/", 1)[-1]: coding for url, coding in codings.items()}
    wheel = next(n for n in by_name if n.endswith(".whl"))  # a stored zip, verified by Pyodide (repack_runtime.py)
    for name in ("pyodide.asm.wasm", "pyodide.asm.js", "compute.js", "site-python.zip", "python_stdlib.zip", wheel):
        assert by_name.get(name) == want, (name, by_name.get(name))
    v.close()


def test_a_first_visit_fetches_no_file_twice(browser, site_url, dist_url):
    """The page and then the service worker's precache each want every app file: the precache revalidates
    (a 304 from the HTTP cache) rather than downloading it again (issue 15). Counted at the server."""
    v = Visit(browser, dist_url)
    since = len(SENT)
    page = v.open()
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    assert pagekit.wait_prediction(page, "1") == "1"
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # installed: its precache is complete
    page.wait_for_timeout(500)
    bodies: dict[str, int] = {}
    for entry in SENT[since:]:
        if entry["status"] == 200:
            bodies[entry["path"]] = bodies.get(entry["path"], 0) + 1
    twice = sorted(path for path, n in bodies.items() if n > 1)
    assert "/models/mnist_int8.npz" in bodies and any(p.endswith(".wasm") for p in bodies), sorted(bodies)
    assert twice == [], f"sent twice on a first visit: {twice}"
    v.close()
