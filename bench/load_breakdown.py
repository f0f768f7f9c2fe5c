#!/usr/bin/env python3
"""Where a cold and a repeat start go, inside the worker: the page's start-up marks, p50 over runs.

    python bench/load_breakdown.py [--runs 5] [--instrument] [--dir dist] [--dir other-site ...]

web/compute.js and web/main.py mark each step of start-up (``digitsLoader.marks``: ms since the
page's navigation start). Each run is a first visit in a fresh browser context (a 7 drawn as soon
as the pad shows, as bench/browser_bench.py does) and then a repeat visit (a reload once the service
worker is active). With several --dir the sites are visited alternately (A B A B ...), so a loaded
machine's drift falls on both alike.

--instrument visits an instrumented copy of each site instead: compute.js splits Pyodide's
``WebAssembly.instantiateStreaming`` into compile and instantiate and marks when each runtime file
arrives, and pyodide.mjs marks when its asm.js is imported and when Python's main and
``finalizeBootstrap`` finish (string patches of the pinned 0.27.7 files, in a temporary copy only;
the split itself costs a little time, so compare totals without it).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import number_strokes  # noqa: E402

from common import machine, machine_line  # noqa: E402

import browser_bench  # noqa: E402
import pagekit  # noqa: E402
import serve  # noqa: E402

# Inserted into compute.js right after its mark() is defined (instrumented copies only).
WASM_SPLIT = """
{
  const W = WebAssembly, compileStreaming = W.compileStreaming, instantiate = W.instantiate;
  W.instantiateStreaming = async (source, imports) => {
    mark("wasm: instantiateStreaming called");
    const module = await compileStreaming.call(W, source);
    mark("wasm compiled");
    const instance = await instantiate.call(W, module, imports);
    mark("wasm: instance made");
    return { module, instance };
  };
  const wrapped = self.fetch;
  self.fetch = (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const name = url.split("/").pop();
    const res = wrapped(input, init);
    if (/\\.(zip|whl|json)$/.test(name)) res.then((r) => r.clone().arrayBuffer()).then(() => mark(`fetched ${name}`), () => {});
    return res;
  };
}
"""

PYODIDE_PATCHES = [
    (
        "let c=await _createPyodideModule(a)",
        'self.digitsMark?.("pyodide.asm.js imported");let c=await _createPyodideModule(a);self.digitsMark?.("Python main done")',
    ),
    (
        "let d=n.finalizeBootstrap(l,e._snapshotDeserializer)",
        'let d=n.finalizeBootstrap(l,e._snapshotDeserializer);self.digitsMark?.("finalizeBootstrap done")',
    ),
]


def instrumented_copy(site: Path, out: Path) -> Path:
    shutil.copytree(site, out, symlinks=False)
    compute = out / "web" / "compute.js"
    text = compute.read_text()
    anchor = "self.digitsMark = mark;\n"
    assert anchor in text, "web/compute.js has no digitsMark"
    compute.write_text(text.replace(anchor, anchor + WASM_SPLIT))
    mjs = out / "web" / "vendor" / "pyodide" / "pyodide.mjs"
    text = mjs.read_text()
    for old, new in PYODIDE_PATCHES:
        assert old in text, f"pyodide.mjs: {old!r} not found (not 0.27.7?)"
        text = text.replace(old, new)
    mjs.write_text(text)
    for p in [compute, mjs]:  # the precompressed copies would be served instead
        for suffix in (".gz", ".br"):
            p.with_name(p.name + suffix).unlink(missing_ok=True)
    return out


def visit(browser, url: str) -> dict:
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    ctx.add_init_script(browser_bench.FIRST_PREDICTION_PROBE)
    page = ctx.new_page()
    page.goto(url, wait_until="commit")
    page.wait_for_selector("#pad", state="visible", timeout=pagekit.READY_TIMEOUT_MS)
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[7])
    pagekit.wait_for(page, "window.__firstPrediction !== null", timeout=pagekit.READY_TIMEOUT_MS)
    cold = page.evaluate(
        "({marks: digitsLoader.marks, ready: digitsLoader.readyMs, first: window.__firstPrediction,"
        " nav: performance.getEntriesByType('navigation')[0].responseEnd})"
    )
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_timeout(1500)
    page.reload(wait_until="commit")
    pagekit.wait_ready(page)
    warm = page.evaluate("({marks: digitsLoader.marks, ready: digitsLoader.readyMs})")
    ctx.close()
    return {"cold": cold, "warm": warm}


def table(runs: list[dict], kind: str) -> list[str]:
    """Each mark's p50 time since navigation, and the p50 of the step that ends there."""
    names = [name for name, _ in runs[0][kind]["marks"]]
    rows = []
    for i, name in enumerate(names):
        at = [dict(r[kind]["marks"])[name] for r in runs if name in dict(r[kind]["marks"])]
        step = []
        for r in runs:
            m = r[kind]["marks"]
            if i < len(m) and m[i][0] == name and i > 0:
                step.append(m[i][1] - m[i - 1][1])
        rows.append(
            f"| {name} | {statistics.median(at):.0f} | {statistics.median(step) if step else 0:.0f} "
            f"({min(step) if step else 0:.0f}-{max(step) if step else 0:.0f}) |"
        )
    ready = [r[kind]["ready"] for r in runs]
    rows.append(f"| ready (page) | {statistics.median(ready):.0f} | |")
    if kind == "cold":
        first = [r[kind]["first"] for r in runs]
        rows.append(f"| first prediction (page) | {statistics.median(first):.0f} | |")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", type=Path, action="append", help="site directory (repeat to alternate sites)")
    ap.add_argument(
        "--instrument", action="store_true", help="split Pyodide's start further (a patched temporary copy)"
    )
    args = ap.parse_args(argv)
    dirs = args.dir or [ROOT / "dist"]

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="load-breakdown-"))
    servers, urls = [], []
    try:
        for i, d in enumerate(dirs):
            site = instrumented_copy(d, tmp / str(i)) if args.instrument else d
            server, _ = serve.start_in_thread(0, site, quiet=True)
            servers.append(server)
            urls.append(f"http://127.0.0.1:{server.server_address[1]}/")
        results: list[list[dict]] = [[] for _ in dirs]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=pagekit.CHROMIUM, args=pagekit.CHROMIUM_ARGS)
            for _ in range(args.runs):
                for i, url in enumerate(urls):
                    results[i].append(visit(browser, url))
            browser.close()
    finally:
        for s in servers:
            s.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"Measured {machine_line(machine())}; {args.runs} runs per site, alternated")
    for d, runs in zip(dirs, results):
        for kind, title in (("cold", "first visit"), ("warm", "repeat visit")):
            print(f"\n{d} — {title}: ms since navigation start, p50 of {len(runs)}")
            print("| mark | at | step (min-max) |\n|---|---:|---:|")
            print("\n".join(table(runs, kind)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
