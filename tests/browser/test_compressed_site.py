"""The output of `make site`, served by scripts/serve.py with its precompressed copies, loads and predicts."""

import sys

import number_strokes

import pagekit
from conftest import ROOT, Visit


def test_built_site_loads_compressed_and_predicts(browser, site_url, tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_site
    import serve

    out = tmp_path / "dist"
    build_site.build(out, log=lambda *a: None)
    server, _ = serve.start_in_thread(0, out, quiet=True)
    try:
        v = Visit(browser, f"http://127.0.0.1:{server.server_address[1]}/", service_workers="block")
        codings: dict[str, str | None] = {}
        v.page.on("response", lambda r: codings.__setitem__(r.url, r.headers.get("content-encoding")))
        page = v.open()
        number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
        assert pagekit.wait_prediction(page, "1") == "1"
        assert not v.failed, v.failed
        want = "br" if build_site.brotli is not None else "gzip"
        by_name = {url.rsplit("/", 1)[-1]: coding for url, coding in codings.items()}
        for name in ("pyodide.asm.wasm", "pyodide.asm.js", "core.js", "main.py"):
            assert by_name.get(name) == want, (name, by_name.get(name))
        assert by_name.get(next(n for n in by_name if n.endswith(".whl"))) is None  # never recompressed
        v.close()
    finally:
        server.shutdown()
        server.server_close()
