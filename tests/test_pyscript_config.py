"""pyscript.toml and index.html agree with the repository: local runtime, every engine file listed."""

import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import pyscript_files  # noqa: E402

CONFIG = tomllib.loads((ROOT / "pyscript.toml").read_text())


def test_runtime_is_local_and_numpy_comes_from_the_lock_file():
    assert CONFIG["interpreter"] == "./web/vendor/pyodide/pyodide.mjs"
    assert CONFIG["packages"] == ["numpy"]
    assert CONFIG["packages_cache"] == "passthrough"


def test_every_module_engine_imports_is_in_files():
    """Fails when engine/__init__.py (directly or not) imports a module the page would not fetch."""
    listed = set(CONFIG["files"])
    missing = [k for k in pyscript_files.engine_entries() if k not in listed]
    assert not missing, f"pyscript.toml [files] lacks {missing}; run `python scripts/pyscript_files.py --write`"


def test_the_import_graph_reader_finds_nested_and_relative_imports(tmp_path):
    pkg = tmp_path / "engine"
    (pkg / "layers").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .model import M\nfrom . import layers\n")
    (pkg / "model.py").write_text("import numpy as np\nfrom .layers.dense import Dense\n")
    (pkg / "layers" / "__init__.py").write_text("")
    (pkg / "layers" / "dense.py").write_text("from ..errors import E\n")
    (pkg / "errors.py").write_text("")
    (pkg / "train.py").write_text("")  # not imported: not needed by the page
    assert pyscript_files.engine_modules(tmp_path) == [
        "engine/__init__.py",
        "engine/errors.py",
        "engine/layers/__init__.py",
        "engine/layers/dense.py",
        "engine/model.py",
    ]


def test_files_are_relative_and_exist_or_are_the_model():
    for url, dest in CONFIG["files"].items():
        assert url.startswith("./") and dest.startswith("./"), (url, dest)
        if not url.startswith("./models/"):
            assert (ROOT / url).is_file(), url
    assert "./models/mnist_int8.npz" in CONFIG["files"]
    assert CONFIG["files"]["./digits/model_card.py"] == "./model_card.py"  # web/card.py imports it


def test_page_loads_nothing_from_another_origin():
    for name in (
        "index.html",
        "pyscript.toml",
        "web/manifest.webmanifest",
        "web/sw.js",
        "web/pad.js",
        "web/pad_strokes.js",
        "web/pad_image.js",
        "web/pad_heat.js",
        "web/loader.js",
        "web/bridge.js",
        "web/compute.js",
        "web/toml_files.js",
        "web/style.css",
        "web/main.py",
    ):
        text = (ROOT / name).read_text()
        # URLs in comments are allowed; attributes and code must be relative.
        code = re.sub(r"<!--.*?-->|/\*.*?\*/|^\s*(//|#).*$", "", text, flags=re.S | re.M)
        assert not re.search(r"""(src|href|url)\s*[=(]\s*["']?(https?:)?//""", code), name
        assert "cdn." not in code and "fonts.googleapis" not in code, name


def test_every_page_module_main_py_imports_is_in_files():
    """web/compute.js writes only the [files] into Pyodide: a page module (web/*.py) that main.py
    imports, directly or not, and that is missing there would stop the page at start-up."""
    import ast

    web = ROOT / "web"
    page_modules = {p.stem for p in web.glob("*.py")}
    wanted, todo = set(), ["main"]
    while todo:
        tree = ast.parse((web / f"{todo.pop()}.py").read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for name in names:
                if name in page_modules and name not in wanted:
                    wanted.add(name)
                    todo.append(name)
    assert {"ui", "teach", "inside_panel"} <= wanted  # the walk itself works
    listed = {dest.removeprefix("./").removesuffix(".py") for dest in CONFIG["files"].values()}
    assert not wanted - listed, "pyscript.toml [files] lacks " + ", ".join(
        f"web/{m}.py" for m in sorted(wanted - listed)
    )
