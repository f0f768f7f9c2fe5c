#!/usr/bin/env python3
"""Benchmark the page in headless Chromium: first and repeat visits, bytes, longest task, prediction time.

    python bench/browser_bench.py [--runs 5] [--slow-runs 3] [--predictions 60] [--dir dist] [--json FILE]

The site is `make site`'s dist/ (built first when missing), served on 127.0.0.1 by
scripts/serve.py's handler with its precompressed copies, as a static host serves them.
For each of two settings, loopback and Chromium's emulation of an 8 Mbit/s, 40 ms link
with the CPU throttled 4x:

  * first visit: a fresh browser context (empty HTTP cache, no service worker), a 7
    drawn with the mouse as soon as the pad is on screen; seconds from navigation start
    to the model being ready and to the page showing its prediction; the longest
    main-thread task (PerformanceObserver "longtask", buffered) until then;
  * bytes on the wire: the response bodies the server sent for the visit, the service
    worker's precache included (counted at the server, so a file fetched twice, once by
    the page and once by the service worker, shows up by name);
  * repeat visit: a reload once the service worker is active; seconds to ready, bytes sent.

p50 and the spread (min-max) over the runs. Then preprocessing + reading per prediction
on loopback (p50 / p95), from the page's own performance.now() figures. Targets (issue 15):
first visit <= 2.0 s, repeat <= 1.2 s, <= 7 MB, nothing fetched twice, no task over 200 ms.
Network emulation applies to the page's requests; the service worker's own fetches are
not throttled (Chromium emulates per target). The CPU model is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import number_strokes  # noqa: E402  (digits drawn with their shape kept on the wide pad)

from common import machine, machine_line  # noqa: E402

import pagekit  # noqa: E402
import serve  # noqa: E402

TARGET_COLD_S = 2.0
TARGET_WARM_S = 1.2
TARGET_BYTES = 7e6
TARGET_TASK_MS = 200.0

# Records when #prediction first shows a digit, in the page's own clock.
FIRST_PREDICTION_PROBE = """
window.__firstPrediction = null;
addEventListener('DOMContentLoaded', () => {
  const el = document.getElementById('prediction');
  new MutationObserver(() => {
    if (window.__firstPrediction === null && /^[0-9]$/.test(el.textContent)) window.__firstPrediction = performance.now();
  }).observe(el, { childList: true, characterData: true, subtree: true });
});
"""


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


# Every response the server sends (scripts/serve.py's log), the service worker's fetches included.
SENT: list[dict] = []


# Chromium's emulation of a slow link and a phone-class CPU (issue 15's second setting).
SLOW = {"download_bps": 8e6 / 8, "upload_bps": 2e6 / 8, "latency_ms": 40, "cpu": 4}


def emulate(cdp) -> None:
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": SLOW["latency_ms"],
            "downloadThroughput": SLOW["download_bps"],
            "uploadThroughput": SLOW["upload_bps"],
        },
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": SLOW["cpu"]})


def served(since: int) -> dict:
    """What the server sent since log entry ``since``: bytes and responses, and the paths sent with a body twice."""
    entries = [e for e in SENT[since:] if e["status"] == 200]
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["path"]] = counts.get(e["path"], 0) + 1
    return {
        "bytes": sum(e["bytes"] for e in entries),
        "responses": len(entries),
        "compressed": sum(1 for e in entries if e["coding"]),
        "twice": sorted(p for p, n in counts.items() if n > 1),
    }


def cold_load(browser, url: str, slow: bool = False) -> dict:
    """A first visit (empty cache, no service worker), a digit drawn as soon as the pad shows; then a repeat visit."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    ctx.add_init_script(FIRST_PREDICTION_PROBE)
    ctx.add_init_script(pagekit.LONG_TASKS_BUFFERED)
    page = ctx.new_page()
    if slow:  # DevTools' network domain slows every request down: only the emulated runs need it
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        emulate(cdp)
    since = len(SENT)
    timeout = pagekit.READY_TIMEOUT_MS * (6 if slow else 1)
    page.goto(url, wait_until="commit")
    page.wait_for_selector("#pad", state="visible", timeout=timeout)
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[7])  # drawn while Python is still loading
    drawn_at = page.evaluate("performance.now()")
    pagekit.wait_for(page, "window.__firstPrediction !== null", timeout=timeout)
    first = page.evaluate("window.__firstPrediction")
    ready = page.evaluate("window.digitsLoader.readyMs")
    predicted = pagekit.prediction(page)
    # The service worker precaches in the background: wait until it is active, then count what was sent.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_timeout(1500)
    cold = served(since)
    longest = max(pagekit.long_tasks(page) + [0.0])
    result = {
        "first_prediction_s": first / 1000,
        "ready_s": ready / 1000,
        "drawn_at_s": drawn_at / 1000,
        "longest_task_ms": longest,
        "bytes": cold["bytes"],
        "responses": cold["responses"],
        "compressed_responses": cold["compressed"],
        "fetched_twice": cold["twice"],
        "predicted": predicted,
        "steps": page.evaluate("window.digitsLoader.history"),
    }
    # Repeat visit: the service worker has everything.
    since = len(SENT)
    page.reload(wait_until="commit")
    pagekit.wait_ready(page)
    result["warm_ready_s"] = page.evaluate("window.digitsLoader.readyMs") / 1000
    result["warm_longest_task_ms"] = max(pagekit.long_tasks(page) + [0.0])
    result["warm_bytes"] = served(since)["bytes"]
    ctx.close()
    return result


def prediction_latency(browser, url: str, n: int) -> dict[str, list[float]]:
    ctx = browser.new_context(viewport={"width": 1100, "height": 900}, service_workers="block")
    page = ctx.new_page()
    page.goto(url)
    pagekit.wait_ready(page)
    out = {"total": [], "prepare": [], "model": []}
    digits = sorted(pagekit.DIGIT_STROKES)
    while len(out["total"]) < n:
        for d in digits:
            page.evaluate("window.digitPad.clear()")
            page.evaluate("for (const k of ['timings', 'prepare', 'model']) window.digitsStats[k].length = 0")
            number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[d])  # live predictions while drawing + the final one
            for _ in range(5):
                page.evaluate("window.digitPad.send(true)")
            got = page.evaluate(
                "({total: Array.from(digitsStats.timings), prepare: Array.from(digitsStats.prepare),"
                " model: Array.from(digitsStats.model)})"
            )
            for k in out:
                out[k] += got[k]
    ctx.close()
    return {k: v[:n] for k, v in out.items()}


def spread(runs: list[dict], key: str) -> dict:
    values = [float(r[key]) for r in runs]
    return {"p50": statistics.median(values), "min": min(values), "max": max(values)}


def summary(runs: list[dict]) -> dict:
    keys = ("ready_s", "first_prediction_s", "warm_ready_s", "bytes", "warm_bytes", "longest_task_ms", "responses")
    out = {key: spread(runs, key) for key in keys}
    out["fetched_twice"] = sorted({p for r in runs for p in r["fetched_twice"]})
    out["predicted"] = [r["predicted"] for r in runs]
    return out


def fmt_s(f: dict) -> str:
    return f"{f['p50']:.2f} s ({f['min']:.2f}-{f['max']:.2f})"


def rows(name: str, f: dict) -> list[tuple[str, str, str]]:
    ok = lambda good: "met" if good else "missed"  # noqa: E731
    twice = ", ".join(f["fetched_twice"]) or "none"
    return [
        (f"{name}: first visit, model ready", fmt_s(f["ready_s"]), ""),
        (
            f"{name}: first visit, first prediction",
            fmt_s(f["first_prediction_s"]),
            f"<= {TARGET_COLD_S} s ({ok(f['first_prediction_s']['p50'] <= TARGET_COLD_S)})",
        ),
        (
            f"{name}: repeat visit, ready",
            fmt_s(f["warm_ready_s"]),
            f"<= {TARGET_WARM_S} s ({ok(f['warm_ready_s']['p50'] <= TARGET_WARM_S)})",
        ),
        (
            f"{name}: bytes on the wire, first visit",
            f"{f['bytes']['p50'] / 1e6:.2f} MB in {f['responses']['p50']:.0f} responses",
            f"<= {TARGET_BYTES / 1e6:.0f} MB ({ok(f['bytes']['p50'] <= TARGET_BYTES)})",
        ),
        (f"{name}: bytes, repeat visit", f"{f['warm_bytes']['p50'] / 1e6:.2f} MB", ""),
        (f"{name}: files fetched twice", twice, f"none ({ok(twice == 'none')})"),
        (
            f"{name}: longest main-thread task while loading",
            f"{f['longest_task_ms']['p50']:.0f} ms ({f['longest_task_ms']['min']:.0f}-{f['longest_task_ms']['max']:.0f})",
            f"<= {TARGET_TASK_MS:.0f} ms ({ok(f['longest_task_ms']['max'] <= TARGET_TASK_MS)})",
        ),
    ]


def markdown(figures: dict) -> str:
    lines = [
        f"Measured {machine_line(figures['machine'])} by `python bench/browser_bench.py` "
        f"({figures['runs']} loopback runs, {figures['slow_runs']} emulated; p50 (min-max))",
        "",
        "| measure (headless Chromium, `make site` output) | value | target |",
        "|---|---:|---|",
    ]
    table = rows("loopback", figures["loopback"])
    if figures.get("slow"):
        table += rows("8 Mbit/s, 40 ms, CPU 4x", figures["slow"])
    p = figures["predict"]
    table.append(
        (
            "preprocessing + reading, p50 / p95",
            f"{p['p50']:.1f} / {p['p95']:.1f} ms ({p['prepare_p50']:.1f} ms preparing)",
            "",
        )
    )
    lines += [f"| {a} | {b} | {c} |" for a, b, c in table]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="first visits on loopback (p50 and spread)")
    ap.add_argument("--slow-runs", type=int, default=3, help="first visits under network and CPU emulation (0: none)")
    ap.add_argument("--predictions", type=int, default=60)
    ap.add_argument("--dir", type=Path, default=ROOT / "dist", help="site directory (default: dist/, built if missing)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table (for bench/run_all.py)")
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    if not (args.dir / "index.html").exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_site.py"), "--out", str(args.dir)], check=True)
    server, _ = serve.start_in_thread(0, args.dir, quiet=True, log=SENT)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    t0 = time.perf_counter()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=pagekit.CHROMIUM, args=pagekit.CHROMIUM_ARGS)
            loopback = [cold_load(browser, url) for _ in range(args.runs)]
            slow = [cold_load(browser, url, slow=True) for _ in range(args.slow_runs)]
            parts = prediction_latency(browser, url, args.predictions)
            browser.close()
    finally:
        server.shutdown()
    timings = parts["total"]
    figures = {
        "machine": machine(),
        "runs": args.runs,
        "slow_runs": args.slow_runs,
        "loopback": summary(loopback),
        "slow": summary(slow) if slow else None,
        "predict": {
            "p50": percentile(timings, 0.50),
            "p95": percentile(timings, 0.95),
            "prepare_p50": percentile(parts["prepare"], 0.50),
            "n": len(timings),
        },
        "loopback_runs": loopback,
        "slow_runs_detail": slow,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    f = figures["loopback"]
    missed = [
        name
        for name, good in (
            ("first visit", f["first_prediction_s"]["p50"] <= TARGET_COLD_S),
            ("repeat visit", f["warm_ready_s"]["p50"] <= TARGET_WARM_S),
            ("bytes", f["bytes"]["p50"] <= TARGET_BYTES),
            ("fetched twice", not f["fetched_twice"]),
            ("longest task", f["longest_task_ms"]["max"] <= TARGET_TASK_MS),
        )
        if not good
    ]
    print(markdown(figures))
    if not args.markdown:
        print(f"\nfirst-visit predictions of a drawn 7: {f['predicted']}; {figures['seconds']:.0f} s in all")
        print("targets: " + ("met" if not missed else "MISSED: " + ", ".join(missed)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
