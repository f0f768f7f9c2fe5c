"""Helpers the browser tests and the browser benchmark share: launching Chromium, drawing on the pad, small PNGs.

Standard library + playwright only (the tests' CPython side may also use NumPy
through the engine, but nothing here needs it).
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# Headless, and nothing that phones home; the host-resolver rule makes every
# name but the test server's address unresolvable, so a stray request to another
# host fails fast instead of leaving the machine (the tests also record and
# check every request URL).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]

READY_TIMEOUT_MS = 60_000  # a cold Pyodide start is a few seconds; CI machines are slow

# Recorded in every page before any of the page's own scripts run.
INIT_SCRIPT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push({
  directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample,
}));
"""


# Main-thread tasks over 50 ms: each one's duration (ms) goes to window.__long as it ends, which
# long_tasks reads. LONG_TASKS_BUFFERED is an init script (context.add_init_script): it runs before
# any of the page's scripts and, buffered, gets every task from navigation on. LONG_TASKS_FROM_NOW is
# for page.evaluate: it starts the list empty and gets only the tasks after it.
_LONG_TASK_OBSERVER = (
    "new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); })"
)
LONG_TASKS_BUFFERED = f"""
window.__long = [];
{_LONG_TASK_OBSERVER}.observe({{ type: 'longtask', buffered: true }});
"""
LONG_TASKS_FROM_NOW = f"""() => {{
    window.__long = [];
    {_LONG_TASK_OBSERVER}.observe({{ type: 'longtask' }});
}}"""


def long_tasks(page) -> list[float]:
    """The durations (ms) of the long tasks seen so far (an entry arrives just after its task ends)."""
    return page.evaluate("window.__long")


# Digit shapes as strokes in pad coordinates (0..1), drawn the way people do.
def _ellipse(cx, cy, rx, ry, start=-math.pi / 2, turns=1.05, n=40):
    return [
        (
            cx + rx * math.cos(start + 2 * math.pi * turns * i / n),
            cy + ry * math.sin(start + 2 * math.pi * turns * i / n),
        )
        for i in range(n + 1)
    ]


DIGIT_STROKES = {
    0: [_ellipse(0.5, 0.5, 0.19, 0.3)],
    1: [[(0.47, 0.2), (0.5, 0.5), (0.52, 0.8)]],
    4: [[(0.38, 0.2), (0.3, 0.58), (0.7, 0.58)], [(0.6, 0.22), (0.6, 0.82)]],
    7: [[(0.3, 0.22), (0.7, 0.22), (0.58, 0.45), (0.46, 0.82)]],
}


def densify(points, step=0.01):
    """Insert points so that consecutive samples are at most `step` apart (like a real pointer)."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        out += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1)]
    return out


def pad_box(page):
    box = page.locator("#pad").bounding_box()
    assert box, "#pad is not visible"
    return box


def draw_mouse(page, strokes, release=True):
    """Draw strokes with the mouse. With release=False the last stroke stays pressed."""
    box = pad_box(page)
    for i, stroke in enumerate(strokes):
        pts = densify(stroke)
        to_px = lambda p: (box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"])  # noqa: E731
        page.mouse.move(*to_px(pts[0]))
        page.mouse.down()
        for p in pts[1:]:
            page.mouse.move(*to_px(p))
        if release or i < len(strokes) - 1:
            page.mouse.up()


def draw_touch(page, cdp, strokes):
    """Draw strokes with a finger through CDP touch events (Playwright has no touch-move API)."""
    box = pad_box(page)
    for stroke in strokes:
        pts = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in densify(stroke)]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": pts[0][0], "y": pts[0][1]}]})
        for x, y in pts[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def bars_add_up(widths) -> bool:
    """The bars' widths (percent) are probabilities: they add up to 100, less what the empty ones hide
    (a bar under 0.5% is drawn empty, web/wording.py), give or take rounding to 0.1%."""
    empty = sum(1 for w in widths if w == 0)
    return 100 - 0.5 * empty - 0.6 <= sum(widths) <= 100.6


def prediction(page) -> str:
    return page.text_content("#prediction") or ""


def wait_prediction(page, expected: str | None = None, timeout=10_000) -> str:
    """Wait until #prediction shows `expected` (or any digit when None); return what it shows."""
    if expected is None:
        wait_for(page, "() => /^[0-9]$/.test(document.getElementById('prediction').textContent)", timeout=timeout)
    else:
        try:
            wait_for(
                page, "(d) => document.getElementById('prediction').textContent === d", arg=expected, timeout=timeout
            )
        except Exception:
            pass  # report what it shows instead of a bare timeout
    return prediction(page)


def wait_for(page, expression: str, arg=None, timeout: float = 20_000, interval_ms: int = 50):
    """Wait until ``expression`` (a JavaScript expression, or a function of ``arg``) is truthy; return its value.

    Playwright's own wait_for_function compiles its predicate with eval() inside the page,
    which the page's CSP (script-src 'self', no 'unsafe-eval') refuses; page.evaluate goes
    through the DevTools protocol, which the CSP does not govern, so this polls with it.
    """
    import time

    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg) if arg is not None else page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression!r} stayed falsy for {timeout:.0f} ms")
        page.wait_for_timeout(interval_ms)


def wait_ready(page):
    page.wait_for_selector("html.py-ready", state="attached", timeout=READY_TIMEOUT_MS)


def png_gray(pixels: list[list[int]]) -> bytes:
    """A grayscale 8-bit PNG from rows of 0..255 values (no Pillow needed)."""
    h, w = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
