"""Teaching the model one person's handwriting: ``engine.personalize`` on writers it misreads.

    python bench/personalize_bench.py [--model models/mnist_int8.npz] [--mnist N] [--opt name=value ...]

Writers are the stroke test styles (``tests/strokes/styles/*.json``, 16 samples each, drawn
as the page's pad draws them, ``tests/stroke_files.py``): the even-numbered samples are the
teaching half, the odd-numbered ones the test half, never taught.

- One writer per style the shipped model misreads: taught 5 samples of that style, then
  their error on the style's 8 test samples, before and after (target: at least halved),
  and on every other style's test samples (what the lesson costs elsewhere).
- A whole writer: one style per digit (slashed 0, long-flag 1, looped 2, flat-top 3, open 4,
  one-stroke 5, plain 6, crossed 7, two-circle 8, curly 9), 5 samples of each taught (50
  examples): error on their 80 test samples before and after, and the time personalizing
  takes in CPython on one thread (BLAS and the engine's threads pinned to one, as in the
  page; median of 3; target 1.5 s here for 10 s in Pyodide).
- The synthetic writers of ``tests/synthetic_writers.py`` (1s with a long, flat flag, read as 7;
  zeros with a flat slash, read as 8 or refused), drawn by ``digits/styles.py``'s pen: 5 taught,
  35 tested (read with ``reject=True``, as the page reads), and the same writer's 20 plain digits of
  what the quirk is mistaken for, which must stay what they are (tests/test_personalize.py's writers).
- MNIST test accuracy of every personalized model against the shipped one (target: at most
  0.3 points lower).

``--pyodide`` also times the whole writer's 50 examples in Pyodide 0.27.7 under Node.js (the
V8 WebAssembly engine Chromium runs; needs node and web/vendor/), as the CPU time the Node process
spends on two runs beyond a run that only loads the model (a busy machine inflates wall time, not
CPU time), and checks that the personal model's bits equal CPython's.

``--chromium`` also times the page's own Learn on the same 50 examples in headless Chromium
(imported through the Teach panel, Learn pressed 3 times; bench/page_learning.py), with the
longest main-thread task meanwhile (target: at most 10 s; the page learns in its worker).

``--opt name=value`` passes a ``PersonalizeOptions`` field (for trying other settings).
Figures go to ``bench/out/personalize_bench.json``.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads: one thread, as in the page

import numpy as np

from common import RESULTS_DIR, ROOT, machine, machine_line

sys.path.insert(0, str(ROOT / "tests"))
import engine  # noqa: E402
import stroke_files  # noqa: E402  (tests/ is on the path from here)
from digits.mnist import load_mnist  # noqa: E402
from digits.paths import SHIPPED_MODEL  # noqa: E402
from engine import parallel  # noqa: E402
from synthetic_writers import WRITERS as SYNTHETIC  # noqa: E402

WRITER = (
    "0-slashed",
    "1-long-flag",
    "2-looped",
    "3-flat-top",
    "4-open",
    "5-one-stroke",
    "6-plain",
    "7-crossbar",
    "8-two-circles",
    "9-curly",
)
TEACH = 5  # examples taught per style


def halves(images: dict, labels: dict, style: str):
    """(teach images, labels, test images, labels) of one style: even samples teach, odd ones test."""
    x, y = images[style], labels[style]
    return x[0::2][:TEACH], y[0::2][:TEACH], x[1::2], y[1::2]


def error(model, x, y) -> float:
    return float((model.predict(x) != y).mean())


PYODIDE_RUN = """
import os, sys
os.chdir("/home/pyodide")
sys.path.insert(0, "/home/pyodide")
import numpy as np
import engine
model = engine.load_model("models/mnist_int8.npz")
x, y = np.load("/work/x.npy"), np.load("/work/y.npy")
opts = {opts!r}
for _ in range({runs}):
    mine = engine.personalize(model, x, y, rng=np.random.default_rng({seed}), **opts)
if {runs}:
    engine.save_model(mine, "/work/mine.npz")
"""


def pyodide_seconds(x, y, seed: int, opts: dict, runs: int = 2) -> tuple[float, dict] | None:
    """(CPU seconds per personalize call in Node.js's Pyodide, the model's arrays), or None without node/vendor."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import pyscript_files
    from test_pyodide_parity import NODE_DRIVER, PYODIDE

    node = shutil.which("node")
    if node is None or not (PYODIDE / "pyodide.asm.wasm").exists():
        print("--pyodide: needs node and web/vendor/ (python scripts/vendor.py); skipped")
        return None
    table = pyscript_files.files_table((ROOT / "pyscript.toml").read_text())
    files = {str(ROOT / src.removeprefix("./")): dest.removeprefix("./") for src, dest in table.items()}
    cpu = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        np.save(work / "x.npy", x)
        np.save(work / "y.npy", y)
        (work / "files.json").write_text(json.dumps(files))
        (work / "driver.js").write_text(NODE_DRIVER)
        for n in (0, runs):
            (work / "run.py").write_text(PYODIDE_RUN.format(opts=opts, runs=n, seed=seed))
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = subprocess.run(
                [node, str(work / "driver.js"), str(PYODIDE), str(work)], capture_output=True, text=True
            )
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode:
                raise RuntimeError(f"Pyodide run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
            cpu[n] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        arrays = dict(engine.load_model(work / "mine.npz").arrays)
    return (cpu[runs] - cpu[0]) / runs, arrays


def parse_opts(pairs):
    opts = {}
    for pair in pairs:
        name, value = pair.split("=", 1)
        opts[name] = value.lower() == "true" if value.lower() in ("true", "false") else json.loads(value)
    return opts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--mnist", type=int, default=10000, help="MNIST test images to score (10000)")
    parser.add_argument("--opt", action="append", default=[], help="a PersonalizeOptions field, name=value")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pyodide", action="store_true", help="also time the 50 examples in Pyodide (Node.js)")
    parser.add_argument("--chromium", action="store_true", help="also time Learn on the 50 examples in the page")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/out/personalize_bench.json")
    args = parser.parse_args(argv)
    opts = parse_opts(args.opt)
    parallel.set_num_threads(1)
    info = machine()
    info["threads"] = 1
    model = engine.load_model(args.model)
    mnist = load_mnist(log=lambda *a: None)
    mx, my = mnist["test_images"][: args.mnist], mnist["test_labels"][: args.mnist].astype(np.int64)
    styles = stroke_files.load_styles()
    images = {name: stroke_files.inputs(samples) for name, samples in styles.items()}
    labels = {name: np.array([s.label for s in samples], np.int64) for name, samples in styles.items()}
    base_mnist = 1 - error(model, mx, my)
    base_style = {s: error(model, images[s][1::2], labels[s][1::2]) for s in styles}
    misread = [s for s in styles if error(model, images[s], labels[s]) > 0]
    lines = [f"Machine: {machine_line(info)}", f"Model: {args.model.name}, MNIST test ({len(my)}) {base_mnist:.2%}"]
    lines.append(f"Options: {opts or 'defaults'}; seed {args.seed}")
    result: dict = {"machine": info, "model": str(args.model), "options": opts, "mnist_base": base_mnist, "writers": {}}

    def teach(x, y):
        t, cpu = time.perf_counter(), time.process_time()
        mine = engine.personalize(model, x, y, rng=np.random.default_rng(args.seed), **opts)
        cpu_seconds.append(time.process_time() - cpu)
        return mine, time.perf_counter() - t

    cpu_seconds: list[float] = []

    lines.append("")
    lines.append(
        "| writer | taught | error before | error after | cut | other styles' error before -> after | MNIST test | seconds |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for style in misread:
        tx, ty, vx, vy = halves(images, labels, style)
        mine, seconds = teach(tx, ty)
        before, after = base_style[style], error(mine, vx, vy)
        others = [s for s in styles if s != style]
        ox = np.concatenate([images[s][1::2] for s in others])
        oy = np.concatenate([labels[s][1::2] for s in others])
        other_before, other_after = error(model, ox, oy), error(mine, ox, oy)
        acc = 1 - error(mine, mx, my)
        cut = 1 - after / before if before else float("nan")
        result["writers"][style] = {
            "taught": len(ty),
            "error_before": before,
            "error_after": after,
            "other_before": other_before,
            "other_after": other_after,
            "mnist": acc,
            "seconds": seconds,
        }
        lines.append(
            f"| {style} | {len(ty)} | {before:.1%} | {after:.1%} | {cut:.0%} | {other_before:.1%} -> {other_after:.1%} "
            f"| {acc:.2%} ({(acc - base_mnist) * 100:+.2f}) | {seconds:.2f} |"
        )

    for name, who in SYNTHETIC.items():  # tests/synthetic_writers.py: styles the model clearly misreads
        quirky, plain = who.samples()
        mine, seconds = teach(quirky[:TEACH], np.full(TEACH, who.label, np.int64))
        wrong = lambda m, x, label: float((m.predict(x, reject=True) != label).mean())  # noqa: E731
        before, after = wrong(model, quirky[TEACH:], who.label), wrong(mine, quirky[TEACH:], who.label)
        plain_before, plain_after = wrong(model, plain, who.mistaken_for), wrong(mine, plain, who.mistaken_for)
        acc = 1 - error(mine, mx, my)
        result["writers"][f"synthetic {name}"] = {
            "taught": TEACH,
            "error_before": before,
            "error_after": after,
            "plain_error_before": plain_before,
            "plain_error_after": plain_after,
            "mnist": acc,
            "seconds": seconds,
        }
        lines.append(
            f"| synthetic {name} ({len(quirky) - TEACH} tested) | {TEACH} | {before:.1%} | {after:.1%} "
            f"| {1 - after / before:.0%} | their plain {who.mistaken_for}s: {plain_before:.1%} -> {plain_after:.1%} "
            f"| {acc:.2%} ({(acc - base_mnist) * 100:+.2f}) | {seconds:.2f} |"
        )

    # The whole writer: 5 samples of each of their ten styles.
    parts = [halves(images, labels, s) for s in WRITER]
    tx, ty = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    vx, vy = np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts])
    times = []
    cpu_seconds.clear()
    for _ in range(3):
        mine, seconds = teach(tx, ty)
        times.append(seconds)
    before, after = error(model, vx, vy), error(mine, vx, vy)
    acc = 1 - error(mine, mx, my)
    again = engine.personalize(model, tx, ty, rng=np.random.default_rng(args.seed), **opts)
    same = all(np.array_equal(a, again.arrays[k]) for k, a in mine.arrays.items())
    result["whole_writer"] = {
        "styles": list(WRITER),
        "taught": len(ty),
        "error_before": before,
        "error_after": after,
        "mnist": acc,
        "seconds": times,
        "median_seconds": statistics.median(times),
        "cpu_seconds": list(cpu_seconds),
        "median_cpu_seconds": statistics.median(cpu_seconds),
        "deterministic": same,
    }
    lines.append("")
    lines.append(
        f"Whole writer ({', '.join(WRITER)}), {len(ty)} examples taught: error on their {len(vy)} other samples "
        f"{before:.1%} -> {after:.1%}; MNIST test {acc:.2%} ({(acc - base_mnist) * 100:+.2f} points); "
        f"{statistics.median(times):.2f} s in CPython on one thread (median of {len(times)}: "
        f"{', '.join(f'{t:.2f}' for t in times)}; CPU time {statistics.median(cpu_seconds):.2f} s, which a busy "
        f"machine does not inflate); same rng, same bits: {same}"
    )
    if args.pyodide:
        timed = pyodide_seconds(tx, ty, args.seed, opts)
        if timed is not None:
            seconds, arrays = timed
            bits = all(np.array_equal(a, arrays[k]) for k, a in mine.arrays.items())
            result["whole_writer"]["pyodide_cpu_seconds"] = seconds
            result["whole_writer"]["pyodide_same_bits"] = bits
            lines.append(
                f"In Pyodide 0.27.7 (Node.js {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}, "
                f"V8 WebAssembly): {seconds:.2f} s of CPU per personalize on the 50 examples; "
                f"same bits as CPython: {bits}"
            )
    if args.chromium:
        import page_learning

        page = page_learning.learn_seconds(tx, ty)
        result["whole_writer"]["chromium"] = page
        lines.append(
            f"In the page (headless Chromium, Learn pressed {len(page['seconds'])} times on the {page['examples']} "
            f"examples): median {statistics.median(page['seconds']):.2f} s "
            f"({', '.join(f'{t:.2f}' for t in page['seconds'])}); longest main-thread task meanwhile "
            f"{page['longest_task_ms']:.0f} ms"
        )
    print("\n".join(lines))
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "personalize_bench.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
