#!/usr/bin/env python3
"""Screenshots of the page for the README: desktop light and dark (1280x800), 1920x1080 and a phone (360x740).

    python scripts/screenshots.py      # writes docs/{desktop-light,desktop-dark,wide-1920,phone}.png

The real page served on 127.0.0.1 (scripts/serve.py) in headless Chromium (scripts/pagekit.py), with
"42" drawn on the desktop pads and a 3 on the phone's; prints where the bars end and the pad's size.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import number_strokes as ns  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

import pagekit  # noqa: E402
import serve  # noqa: E402

out = ROOT / "docs"
server, _ = serve.start_in_thread(port=0, directory=ROOT, quiet=True)
url = f"http://127.0.0.1:{server.server_address[1]}/"
SHOTS = {
    "desktop-light": dict(viewport={"width": 1280, "height": 800}, color_scheme="light"),
    "desktop-dark": dict(viewport={"width": 1280, "height": 800}, color_scheme="dark"),
    "wide-1920": dict(viewport={"width": 1920, "height": 1080}, color_scheme="light"),
    "phone": dict(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        color_scheme="light",
    ),
}
with sync_playwright() as pw:
    b = pw.chromium.launch(executable_path=pagekit.CHROMIUM, args=pagekit.CHROMIUM_ARGS)
    for name, opts in SHOTS.items():
        c = b.new_context(**opts)
        p = c.new_page()
        p.goto(url)
        pagekit.wait_ready(p)
        ns.drawn(
            p, lambda p=p, name=name: ns.draw_number(p, "42") if name != "phone" else ns.draw_digit(p, ns.DIGITS[3])
        )
        p.wait_for_timeout(400)
        p.screenshot(path=str(out / f"{name}.png"))
        print(
            name,
            p.evaluate("""() => { const r = (s) => document.querySelector(s).getBoundingClientRect();
          return {bars: Math.round(r('#bars').bottom), pad: [Math.round(r('#pad').width), Math.round(r('#pad').height)], h: innerHeight}; }"""),
        )
        c.close()
    b.close()
server.shutdown()
