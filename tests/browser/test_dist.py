"""The output of `make site` works on its own, served from another directory."""

import sys

import number_strokes

import pagekit
from conftest import ROOT, Visit


def test_built_site_loads_and_predicts_by_itself(browser, site_url, tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_site
    import serve

    out = tmp_path / "dist"
    build_site.build(out, log=lambda *a: None)
    server, _ = serve.start_in_thread(0, out, quiet=True)
    try:
        v = Visit(browser, f"http://127.0.0.1:{server.server_address[1]}/")
        page = v.open()
        number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
        assert pagekit.wait_prediction(page, "1") == "1"
        assert not v.foreign_requests(), v.foreign_requests()
        assert not [u for u in v.failed if "sw.js" not in u], v.failed
        v.close()
    finally:
        server.shutdown()
