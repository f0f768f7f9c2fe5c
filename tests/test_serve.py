"""scripts/serve.py: precompressed copies are sent when the client accepts them, the plain file otherwise."""

import gzip
import http.client
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import build_site  # noqa: E402
import serve  # noqa: E402

STRICT = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SCRIPT = ("function add(a, b) { return a + b; }\n" * 400).encode()
HTML = b"<!doctype html><title>t</title>" + b"<p>hello</p>\n" * 200


def decode(body: bytes, coding: str | None) -> bytes:
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "br":
        import brotli

        return brotli.decompress(body)
    assert coding is None, coding
    return body


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "app.js").write_bytes(SCRIPT)
    (root / "index.html").write_bytes(HTML)
    (root / "logo.png").write_bytes(b"\x89PNG" + bytes(range(256)) * 8)
    build_site.precompress(root, cache=None)
    (root / "gz_only.js").write_bytes(SCRIPT)
    (root / "gz_only.js.gz").write_bytes(gzip.compress(SCRIPT))
    (root / "stale.js").write_bytes(SCRIPT)
    (root / "stale.js.gz").write_bytes(gzip.compress(b"old contents"))
    os.utime(root / "stale.js.gz", (1_000_000, 1_000_000))  # older than stale.js: must be ignored
    server, _ = serve.start_in_thread(0, root, quiet=True)
    yield root, server.server_address[1]
    server.shutdown()
    server.server_close()


def fetch(port: int, path: str, accept: str | None = None, method: str = "GET", **headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    if accept is not None:
        headers["Accept-Encoding"] = accept
    conn.request(method, path, headers=headers)
    res = conn.getresponse()
    body = res.read()
    conn.close()
    return res, body


def need_brotli():
    if build_site.brotli is None:
        if STRICT:
            pytest.fail("the brotli package is missing (pip install -e '.[test]')", pytrace=False)
        pytest.skip("the brotli package is not installed")


@pytest.mark.parametrize("accept", ["gzip, deflate, br, zstd", "br", "br;q=1, gzip;q=1", "*"])
def test_brotli_is_preferred_and_decodes_to_the_original(site, accept):
    need_brotli()
    _, port = site
    res, body = fetch(port, "/app.js", accept)
    assert res.status == 200
    assert res.getheader("Content-Encoding") == "br"
    assert res.getheader("Content-Type") == "text/javascript"
    assert res.getheader("Content-Length") == str(len(body)) and len(body) < len(SCRIPT) // 10
    assert res.getheader("Vary") == "Accept-Encoding"
    assert decode(body, "br") == SCRIPT


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate", "x-gzip", "br;q=0, gzip", "br;q=0.5, gzip;q=0.8"])
def test_gzip_when_brotli_is_not_wanted(site, accept):
    _, port = site
    res, body = fetch(port, "/app.js", accept)
    assert res.getheader("Content-Encoding") == "gzip"
    assert res.getheader("Content-Type") == "text/javascript"
    assert int(res.getheader("Content-Length")) == len(body) < len(SCRIPT)
    assert res.getheader("Vary") == "Accept-Encoding"
    assert decode(body, "gzip") == SCRIPT


@pytest.mark.parametrize("accept", [None, "", "identity", "deflate", "gzip;q=0, br;q=0", "*;q=0"])
def test_plain_file_when_no_copy_is_accepted(site, accept):
    _, port = site
    res, body = fetch(port, "/app.js", accept)
    assert res.status == 200 and body == SCRIPT
    assert res.getheader("Content-Encoding") is None
    assert res.getheader("Content-Length") == str(len(SCRIPT))
    assert res.getheader("Content-Type") == "text/javascript"
    assert res.getheader("Vary") == "Accept-Encoding"  # the response still depends on the header


def test_the_index_page_is_compressed_too(site):
    _, port = site
    res, body = fetch(port, "/", "gzip")
    assert res.getheader("Content-Type") == "text/html"
    assert res.getheader("Content-Encoding") == "gzip" and decode(body, "gzip") == HTML


def test_only_the_copies_that_exist_are_offered(site):
    _, port = site
    res, body = fetch(port, "/gz_only.js", "br, gzip")
    assert res.getheader("Content-Encoding") == "gzip" and decode(body, "gzip") == SCRIPT
    res, body = fetch(port, "/logo.png", "br, gzip")  # no copies: plain, and nothing varies
    assert res.getheader("Content-Encoding") is None and res.getheader("Vary") is None
    assert res.getheader("Content-Type") == "image/png" and body.startswith(b"\x89PNG")


def test_a_copy_older_than_its_file_is_ignored(site):
    _, port = site
    res, body = fetch(port, "/stale.js", "br, gzip")
    assert res.getheader("Content-Encoding") is None and body == SCRIPT


def test_head_sends_the_headers_of_the_get(site):
    _, port = site
    get, body = fetch(port, "/app.js", "gzip")
    head, empty = fetch(port, "/app.js", "gzip", method="HEAD")
    assert empty == b""
    for name in ("Content-Encoding", "Content-Type", "Content-Length", "Vary", "Last-Modified"):
        assert head.getheader(name) == get.getheader(name), name


def test_revalidation_of_a_compressed_copy_answers_304(site):
    _, port = site
    first, _ = fetch(port, "/app.js", "gzip")
    res, body = fetch(port, "/app.js", "gzip", **{"If-Modified-Since": first.getheader("Last-Modified")})
    assert res.status == 304 and body == b""
    assert res.getheader("Vary") == "Accept-Encoding"


def test_missing_files_and_directories_behave_as_before(site):
    _, port = site
    assert fetch(port, "/nope.js", "gzip")[0].status == 404
    assert fetch(port, "/app.js/", "gzip")[0].status == 404


def test_choose_coding():
    assert serve.choose_coding("gzip, br", ["br", "gzip"]) == "br"
    assert serve.choose_coding("br;q=0.1, gzip", ["br", "gzip"]) == "gzip"
    assert serve.choose_coding("BR", ["br", "gzip"]) == "br"
    assert serve.choose_coding("br;q=0", ["br"]) is None
    assert serve.choose_coding("*;q=0.5, br;q=0", ["br", "gzip"]) == "gzip"
    assert serve.choose_coding("gzip;q=bogus", ["gzip"]) is None
    assert serve.choose_coding(None, ["br", "gzip"]) is None


def test_the_repository_root_is_served_plain():
    """`make serve-dev` serves the repository, which has no copies: plain files with the pinned types."""
    server, _ = serve.start_in_thread(0, ROOT, quiet=True)
    port = server.server_address[1]
    try:
        res, body = fetch(port, "/", "gzip, deflate, br")
        assert res.status == 200 and body == (ROOT / "index.html").read_bytes()
        assert res.getheader("Content-Type") == "text/html" and res.getheader("Content-Encoding") is None
        res, body = fetch(port, "/pyscript.toml", "gzip, br")
        assert body == (ROOT / "pyscript.toml").read_bytes() and res.getheader("Content-Encoding") is None
        assert res.getheader("Content-Length") == str(len(body))
        wasm = ROOT / "web" / "vendor" / "pyodide" / "pyodide.asm.wasm"
        if wasm.exists():
            res, body = fetch(port, "/web/vendor/pyodide/pyodide.asm.wasm", "gzip, br", method="HEAD")
            assert res.getheader("Content-Type") == "application/wasm"
            assert res.getheader("Content-Length") == str(wasm.stat().st_size)
            assert res.getheader("Content-Encoding") is None
    finally:
        server.shutdown()
        server.server_close()
