"""engine.personalize inside Pyodide (the page's Python) gives the personal model CPython gives, bit for bit.

The same examples (a writer's drawings: one stroke style per digit, rendered as the pad draws
them) and the same seed go through ``personalize`` in Node.js's Pyodide 0.27.7 (NumPy 2.0.2
without BLAS, files placed as pyscript.toml's [files] table places them) and in CPython; every
array of the two models must be equal. Uses test_pyodide_parity.py's driver; needs node and
web/vendor/, and skips without them (fails under CI=true). About a minute.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import engine
import stroke_files
from test_pyodide_parity import MODEL, PYODIDE, require, run_in_pyodide

pytestmark = pytest.mark.browser

STYLES = ("0-slashed", "1-long-flag", "4-open", "7-crossbar", "9-curly")
SEED = 7

PYODIDE_RUN = f"""
import os, sys, time
os.chdir("/home/pyodide")
sys.path.insert(0, "/home/pyodide")
import numpy as np
import engine
model = engine.load_model("models/mnist_int8.npz")
x, y = np.load("/work/x.npy"), np.load("/work/y.npy")
start = time.perf_counter()
mine = engine.personalize(model, x, y, rng=np.random.default_rng({SEED}))
print(f"personalize on {{len(y)}} examples in Pyodide: {{time.perf_counter() - start:.2f}} s")
engine.save_model(mine, "/work/mine_pyodide.npz")
"""


def test_personal_model_bits_match_cpython(tmp_path):
    node = shutil.which("node")
    require(node is not None, "node (Node.js >= 18) is not installed")
    require((PYODIDE / "pyodide.asm.wasm").exists(), "web/vendor/ is missing: run `python scripts/vendor.py`")
    styles = {name: stroke_files.load_style(stroke_files.STYLES_DIR / f"{name}.json") for name in STYLES}
    samples = [s for name in STYLES for s in styles[name][0:10:2]]  # 5 a style
    x = stroke_files.inputs(samples)
    y = np.array([s.label for s in samples], np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    proc = run_in_pyodide(node, tmp_path, PYODIDE_RUN, timeout=600)
    print(proc.stdout.strip().splitlines()[0])
    browser = engine.load_model(tmp_path / "mine_pyodide.npz")
    mine = engine.personalize(engine.load_model(MODEL), x, y, rng=np.random.default_rng(SEED))
    assert browser.architecture == mine.architecture
    differ = sorted(k for k, v in mine.arrays.items() if not np.array_equal(v, browser.arrays[k]))
    assert not differ, f"arrays that differ between CPython and Pyodide: {differ}"
    assert np.array_equal(browser.predict_proba(x), mine.predict_proba(x))
