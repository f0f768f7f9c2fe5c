"""The engine inside Pyodide (the browser's Python) computes what CPython computes.

Node.js runs the vendored Pyodide 0.27.7 with loadPyodide({indexURL}), loads
NumPy from the local wheel through pyodide-lock.json (as the page does), and
writes every file pyscript.toml's [files] table names into Pyodide's file
system (as the page's worker, web/compute.js, does). Then both interpreters run engine.preprocess and
model.predict_proba on the same inputs: MNIST test images, and large synthetic
drawings of the kind the pad produces.

Needs node, web/vendor/ (scripts/vendor.py), the model and MNIST; a missing
one skips locally and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import pyscript_files  # noqa: E402

pytestmark = pytest.mark.browser

STRICT = os.environ.get("CI", "").lower() in ("1", "true", "yes")
N_IMAGES = 1000  # MNIST test images compared
SALIENCY_IMAGES = 16  # of them, explained by engine.explain in both
PROB_TOL = 1e-5
# DIGITS_SITE_DIR=dist checks the output of `make site` instead of the repository root.
SITE = Path(os.environ.get("DIGITS_SITE_DIR") or ROOT).resolve()
PYODIDE = SITE / "web" / "vendor" / "pyodide"
MODEL = SITE / "models" / "mnist_int8.npz"

NODE_DRIVER = r"""
// Usage: node driver.js <indexURL> <workdir>. workdir holds files.json, run.py and the inputs.
const fs = require("fs");
const path = require("path");
const [indexURL, work] = process.argv.slice(2);
const { loadPyodide } = require(path.join(indexURL, "pyodide.js"));
(async () => {
  const t0 = Date.now();
  const py = await loadPyodide({ indexURL: indexURL + path.sep, stdout: (s) => console.log(s), stderr: (s) => console.error(s) });
  await py.loadPackage("numpy", { messageCallback: () => {} });
  // What the page's worker (web/compute.js) does with [files]: fetch each URL, write it under the home directory.
  const files = JSON.parse(fs.readFileSync(path.join(work, "files.json"), "utf8"));
  for (const [src, dest] of Object.entries(files)) {
    const target = path.posix.join("/home/pyodide", dest);
    py.FS.mkdirTree(path.posix.dirname(target));
    py.FS.writeFile(target, fs.readFileSync(src));
  }
  py.FS.mkdirTree("/work");
  py.FS.mount(py.FS.filesystems.NODEFS, { root: work }, "/work");
  py.runPython(fs.readFileSync(path.join(work, "run.py"), "utf8"));
  console.log(`pyodide run took ${Date.now() - t0} ms`);
})().catch((err) => { console.error(err); process.exit(1); });
"""

PYODIDE_RUN = r"""
import os, sys, json
os.chdir("/home/pyodide")
sys.path.insert(0, "/home/pyodide")
import numpy as np
import engine
model = engine.load_model("models/mnist_int8.npz")
images = np.load("/work/images.npy")
np.save("/work/probs_pyodide.npy", model.predict_proba(images))
drawings = np.load("/work/drawings.npy")
pre = np.stack([engine.preprocess(d) for d in drawings])
np.save("/work/pre_pyodide.npy", pre)
np.save("/work/pre_probs_pyodide.npy", model.predict_proba(pre))
# The page's "Inside the model": heat maps (both methods) and the last layer's scores.
heat_images = images[:SALIENCY_IMAGES].astype(np.float32) / 255
np.save("/work/heat_pyodide.npy", np.stack([engine.explain.saliency(model, x) for x in heat_images]))
np.save("/work/ig_pyodide.npy", np.stack([engine.explain.saliency(model, x, method="integrated_gradients") for x in heat_images[:4]]))
np.save("/work/scores_pyodide.npy", np.stack([engine.explain.output_scores(model, x) for x in heat_images]))
json.dump({"numpy": np.__version__, "python": sys.version.split()[0], "platform": sys.platform},
          open("/work/env.json", "w"))
"""


def require(ok: bool, message: str) -> None:
    if not ok:
        if STRICT:
            pytest.fail(f"{message} (CI=true: this test must run)", pytrace=False)
        pytest.skip(message)


def synthetic_drawings(n: int = 24, size: int = 280, seed: int = 0) -> np.ndarray:
    """Pad-like uint8 drawings: thick bright polylines on black at random places and sizes."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, size, size), np.uint8)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for k in range(n):
        pts = rng.uniform(0.15, 0.85, size=(rng.integers(3, 7), 2)) * size
        width = rng.uniform(4, 26)
        img = np.zeros((size, size), np.float32)
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / max(dx * dx + dy * dy, 1e-6), 0, 1)
            d = np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy))
            img = np.maximum(img, np.clip(width / 2 - d + 0.5, 0, 1))
        out[k] = (img * 255).astype(np.uint8)
    return out


def run_in_pyodide(node: str, work: Path, script: str, timeout: int) -> subprocess.CompletedProcess:
    """Run ``script`` in Node.js's Pyodide, the page's files placed as pyscript.toml's [files] places
    them and ``work`` mounted at /work; fails with Pyodide's output if the script fails."""
    table = pyscript_files.files_table((SITE / "pyscript.toml").read_text())
    files = {str(SITE / src.removeprefix("./")): dest.removeprefix("./") for src, dest in table.items()}
    (work / "files.json").write_text(json.dumps(files))
    (work / "run.py").write_text(script)
    (work / "driver.js").write_text(NODE_DRIVER)
    proc = subprocess.run(
        [node, str(work / "driver.js"), str(PYODIDE), str(work)], capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"Pyodide run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


@pytest.fixture(scope="module")
def pyodide_results(tmp_path_factory):
    node = shutil.which("node")
    require(node is not None, "node (Node.js >= 18) is not installed")
    require((PYODIDE / "pyodide.asm.wasm").exists(), "web/vendor/ is missing: run `python scripts/vendor.py`")
    require(MODEL.exists(), "models/mnist_int8.npz is missing: run `make train`")
    try:
        from digits.mnist import load_mnist

        data = load_mnist(log=lambda *a: None)
    except Exception as exc:  # noqa: BLE001
        require(False, f"MNIST is not available ({exc}): run `python -m digits.mnist fetch`")

    work = tmp_path_factory.mktemp("pyodide")
    images = data["test_images"][:N_IMAGES]
    labels = data["test_labels"][:N_IMAGES]
    drawings = synthetic_drawings()
    np.save(work / "images.npy", images)
    np.save(work / "drawings.npy", drawings)
    run_in_pyodide(node, work, PYODIDE_RUN.replace("SALIENCY_IMAGES", str(SALIENCY_IMAGES)), timeout=300)
    return {
        "work": work,
        "images": images,
        "labels": labels,
        "drawings": drawings,
        "probs": np.load(work / "probs_pyodide.npy"),
        "pre": np.load(work / "pre_pyodide.npy"),
        "pre_probs": np.load(work / "pre_probs_pyodide.npy"),
        "heat": np.load(work / "heat_pyodide.npy"),
        "ig": np.load(work / "ig_pyodide.npy"),
        "scores": np.load(work / "scores_pyodide.npy"),
        "env": json.loads((work / "env.json").read_text()),
    }


@pytest.fixture(scope="module")
def cpython_model():
    import engine

    return engine.load_model(MODEL)


def test_pyodide_runs_the_pinned_runtime(pyodide_results):
    env = pyodide_results["env"]
    assert env["platform"] == "emscripten"
    assert env["numpy"] == "2.0.2"


def test_predictions_match_cpython_on_mnist(pyodide_results, cpython_model):
    images = pyodide_results["images"]
    assert len(images) >= 500
    p_browser = pyodide_results["probs"]
    p_cpython = cpython_model.predict_proba(images)
    assert p_browser.shape == p_cpython.shape == (len(images), 10)
    assert p_browser.dtype == np.float32
    diff = float(np.abs(p_browser - p_cpython).max())
    print(f"\nparity on {len(images)} MNIST test images: max |p_pyodide - p_cpython| = {diff:.3g}")
    assert diff <= PROB_TOL, f"max |p_pyodide - p_cpython| = {diff:.3g} > {PROB_TOL}"
    assert np.array_equal(p_browser.argmax(1), p_cpython.argmax(1))
    # The comparison is meaningful only if the model is good.
    accuracy = float((p_browser.argmax(1) == pyodide_results["labels"]).mean())
    assert accuracy > 0.95, accuracy


def test_preprocess_matches_cpython_on_pad_drawings(pyodide_results, cpython_model):
    import engine

    pre_cpython = np.stack([engine.preprocess(d) for d in pyodide_results["drawings"]])
    diff = float(np.abs(pyodide_results["pre"] - pre_cpython).max())
    assert diff <= 1e-5, f"preprocess differs by {diff:.3g}"
    probs_diff = float(np.abs(pyodide_results["pre_probs"] - cpython_model.predict_proba(pre_cpython)).max())
    assert probs_diff <= PROB_TOL, probs_diff


def test_heat_maps_and_scores_match_cpython(pyodide_results, cpython_model):
    """The page's heat maps (gradient x input, integrated gradients) and last-layer scores are CPython's."""
    import engine

    x = pyodide_results["images"][:SALIENCY_IMAGES].astype(np.float32) / 255
    heat = np.stack([engine.explain.saliency(cpython_model, im) for im in x])
    ig = np.stack([engine.explain.saliency(cpython_model, im, method="integrated_gradients") for im in x[:4]])
    scores = np.stack([engine.explain.output_scores(cpython_model, im) for im in x])
    for name, ours, theirs in (
        ("gradient x input", heat, pyodide_results["heat"]),
        ("integrated", ig, pyodide_results["ig"]),
    ):
        scale = float(np.abs(ours).max())
        diff = float(np.abs(ours - theirs).max())
        assert scale > 0 and diff <= 1e-4 * scale, f"{name}: max difference {diff:.3g} of a map scale {scale:.3g}"
    assert np.array_equal(scores, pyodide_results["scores"]), "int8 layers are exact integer arithmetic in both"
