"""No request leaves the origin, and the Content-Security-Policy holds (and the check can fail)."""

import re

import number_strokes

import pagekit


def test_no_request_leaves_the_server(visit):
    v = visit()
    page = v.open()
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    pagekit.wait_prediction(page, "1")
    page.click("#model-panel summary")
    page.wait_for_timeout(300)
    assert v.requests, "no request was recorded at all: the recorder is broken"
    assert not v.foreign_requests(), f"requests left 127.0.0.1: {v.foreign_requests()}"
    assert not v.failed, f"failed requests: {v.failed}"


def test_no_csp_violation_during_load_and_use(visit):
    v = visit()
    page = v.open()
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[0])
    pagekit.wait_prediction(page)
    page.keyboard.press("Escape")
    assert v.csp_violations() == []
    assert not [c for c in v.console if "Content Security Policy" in c], v.console


def test_csp_is_strict():
    """default-src 'self', no 'unsafe-inline', and no source outside the origin."""
    from conftest import SITE

    html = (SITE / "index.html").read_text()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in csp
    assert "http" not in csp and "*" not in csp
    assert directives["script-src"] == "'self'", "no eval of any kind: Python runs in a worker (web/compute.js)"
    assert directives["object-src"] == "'none'"
    assert "<script>" not in html and " style=" not in html, "inline script or style in index.html"


def _variant(v, transform):
    """Serve index.html rewritten by `transform` to this visit only."""

    def handle(route):
        resp = route.fetch()
        route.fulfill(response=resp, body=transform(resp.text()))

    v.context.route(re.compile(r".*/(index\.html)?$"), handle)


def test_control_an_inline_script_is_reported(visit):
    """The check above can fail: an injected inline script is blocked and recorded."""
    v = visit(service_workers="block")
    _variant(v, lambda html: html.replace("</body>", "<script>window.__inline = 1</script></body>"))
    page = v.open(wait_ready=False)
    pagekit.wait_for(page, "window.__csp.length > 0", timeout=10_000, interval_ms=100)
    violations = v.csp_violations()
    assert any(x["directive"].startswith("script-src") and x["blocked"] == "inline" for x in violations), violations
    assert page.evaluate("window.__inline") is None


def test_control_eval_on_the_page_is_refused(visit):
    """The page runs under script-src 'self' alone: an eval in a page script is blocked and
    recorded, while the page itself (Python in its worker) still loads and reads."""
    v = visit(service_workers="block")
    probe = "window.__evaluated = (() => { try { return eval('1 + 1'); } catch (e) { return e.name; } })();"

    def with_probe(route):
        resp = route.fetch()
        route.fulfill(response=resp, body=resp.text() + "\n" + probe)

    v.context.route("**/web/examples.js", with_probe)
    page = v.open()
    assert page.evaluate("window.__evaluated") == "EvalError"
    violations = v.csp_violations()
    assert any(x["directive"].startswith("script-src") and x["blocked"] == "eval" for x in violations), violations
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    assert pagekit.wait_prediction(page, "1") == "1"


def test_a_tampered_numpy_wheel_is_refused(visit):
    """The worker fetches the NumPy wheel itself and holds it to the sha256 web/vendor/precache.json gives
    it (web/compute.js's fetchNumpyWheel): one changed byte and the page says it could not start, instead
    of running it."""
    v = visit(service_workers="block")

    def tampered(route):
        resp = route.fetch()
        body = bytearray(resp.body())
        body[len(body) // 2] ^= 0xFF
        route.fulfill(response=resp, body=bytes(body))

    v.context.route("**/*.whl", tampered)
    page = v.open(wait_ready=False)
    page.wait_for_selector("html.py-failed", state="attached", timeout=pagekit.READY_TIMEOUT_MS)
    status = page.text_content("#load-status")
    assert "NumPy could not be loaded" in status and "does not match the sha256" in status, status
    assert not page.evaluate("document.documentElement.classList.contains('py-ready')")


def test_the_python_worker_has_its_own_policy(visit):
    """A worker's CSP comes with its own response: scripts/serve.py sends one for web/compute.js
    (WebAssembly and this origin only), and the page runs under it."""
    v = visit(service_workers="block")
    headers = {}
    v.page.on("response", lambda r: headers.update(r.headers) if r.url.endswith("/web/compute.js") else None)
    page = v.open()
    policy = headers.get("content-security-policy", "")
    assert "script-src 'self' 'wasm-unsafe-eval'" in policy and "connect-src 'self'" in policy, headers
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    assert pagekit.wait_prediction(page, "1") == "1"
