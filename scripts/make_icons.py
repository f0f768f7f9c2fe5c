#!/usr/bin/env python3
"""Render web/icons/icon-192.png and icon-512.png from web/icons/icon.svg with headless Chromium.

The PNGs are full-bleed squares (the rounded corners are dropped) so they also
work as "maskable" icons, whose corners the platform cuts itself. Run once after
editing the SVG; needs playwright and /usr/bin/chromium (see scripts/install_chromium.sh).
"""

import re
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "web" / "icons"


def main() -> None:
    svg = (ICONS / "icon.svg").read_text()
    square = re.sub(r'rx="[^"]*"', 'rx="0"', svg)  # full bleed for maskable use
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for size in (192, 512):
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(
                f'<html><body style="margin:0">{square.replace("<svg ", f"<svg width={size} height={size} ", 1)}</body></html>'
            )
            page.screenshot(path=str(ICONS / f"icon-{size}.png"), omit_background=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
