"""Learn on the real page: how long the page's Learn takes in headless Chromium on a set of examples.

Used by ``bench/personalize_bench.py --chromium``. The repository root is served on 127.0.0.1
(scripts/serve.py), the examples are imported through the Teach panel's Import (an
``engine.save_examples`` file, as Export writes), and Learn is pressed ``runs`` times; each run's
seconds are the page's own figure (web/teach.py notes "learned N in MS" from the press to the
personal model in use), and the longest main-thread task during the runs is measured with a
PerformanceObserver (Python learns in the page's worker, web/compute.js).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
import pagekit  # noqa: E402
import serve  # noqa: E402

PANEL = "document.getElementById('teach-panel').dataset"


def learn_seconds(x: np.ndarray, y: np.ndarray, runs: int = 3) -> dict:
    """{"seconds": [per run], "longest_task_ms": ..., "examples": N} for Learn on (x, y) in the page."""
    from playwright.sync_api import sync_playwright

    server, _thread = serve.start_in_thread(port=0, directory=ROOT, quiet=True)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
            examples = Path(tmp) / "examples.npz"
            engine.save_examples(examples, x, y)
            browser = pw.chromium.launch(executable_path=pagekit.CHROMIUM, args=pagekit.CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1100, "height": 1000}, service_workers="block").new_page()
            page.goto(url)
            pagekit.wait_ready(page)
            page.set_input_files("#import-file", str(examples))
            pagekit.wait_for(page, f"{PANEL}.examples === '{len(y)}'", timeout=30_000)
            page.evaluate(pagekit.LONG_TASKS_FROM_NOW)
            seconds = []
            for run in range(runs):
                page.click("#learn")
                pagekit.wait_for(page, f"{PANEL}.state === 'learning'")
                pagekit.wait_for(page, f"{PANEL}.state === 'idle'", timeout=300_000)
                note = pagekit.wait_for(
                    page,
                    f"() => window.digitsStats.teach.filter((n) => n.startsWith('learned ')).length > {run}"
                    f" && window.digitsStats.teach.filter((n) => n.startsWith('learned ')).at(-1)",
                )
                seconds.append(float(note.split()[-1]) / 1000)  # "learned 50 in 8123"
            page.wait_for_timeout(300)  # long-task entries arrive after their task
            longest = max(pagekit.long_tasks(page) + [0.0])
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return {"seconds": seconds, "longest_task_ms": longest, "examples": int(len(y))}
