"""scripts/build_site.py: dist/ holds exactly what the page needs, and nothing from training."""

import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import build_site  # noqa: E402
import compile_pyc  # noqa: E402
import numpy_patches  # noqa: E402
import pyscript_files  # noqa: E402
import repack_runtime  # noqa: E402
import site_python  # noqa: E402
import vendor  # noqa: E402

STRICT = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(ok: bool, message: str) -> None:
    if not ok:
        if STRICT:
            pytest.fail(f"{message} (CI=true: this test must run)", pytrace=False)
        pytest.skip(message)


VENDORED = vendor.VENDOR_DIR / "pyodide"
PY312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"


def numpy_wheel_name() -> str:
    return json.loads((VENDORED / "pyodide-lock.json").read_text())["packages"]["numpy"]["file_name"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    require(
        vendor.is_current(vendor.sha256_bytes(vendor.LOCK_PATH.read_bytes())),
        "web/vendor/ not vendored here (make vendor)",
    )
    require((ROOT / "models" / "mnist_int8.npz").exists(), "no model yet (make train)")
    out = tmp_path_factory.mktemp("site") / "dist"
    build_site.build(out, log=lambda *a: None)
    return out


def test_dist_has_the_page_runtime_engine_and_model(dist):
    for rel in (
        "index.html",
        "sw.js",
        "pyscript.toml",
        "web/pad.js",
        "web/pad_strokes.js",
        "web/pad_image.js",
        "web/sw.js",
        "web/manifest.webmanifest",
        "web/vendor/precache.json",
        "web/vendor/pyodide/pyodide.asm.wasm",
        "web/vendor/pyodide/pyodide.mjs",
        "web/compute.js",
        "web/bridge.js",
        "models/mnist_int8.npz",
    ):
        assert (dist / rel).is_file(), rel
    for url in pyscript_files.files_table((dist / "pyscript.toml").read_text()):
        assert (dist / url.removeprefix("./")).is_file(), url
    # Every Python source the repository's [files] lists is in the site: as a .pyc in the one archive
    # (scripts/site_python.py) where node is installed, else as itself.
    sources = site_python.sources((ROOT / "pyscript.toml").read_text())
    assert {"./engine/__init__.py", "./web/ui.py", "./digits/model_card.py"} <= set(sources)
    for url, dst in sources.items():
        assert shipped_python(dist, dst) is not None, url


def shipped_python(dist: Path, dst: str) -> bytes | None:
    """What the site ships for the module pyscript.toml puts at ``dst``: its .pyc from the site's Python
    archive, or its source where there is no archive (no node), or None."""
    name = dst.removeprefix("./")
    archive = dist / site_python.ARCHIVE.removeprefix("./")
    if archive.exists():
        with zipfile.ZipFile(archive) as z:
            return z.read(name[:-3] + ".pyc") if name[:-3] + ".pyc" in z.namelist() else None
    url = {d: u for u, d in pyscript_files.files_table((dist / "pyscript.toml").read_text()).items()}.get(dst)
    return (dist / url.removeprefix("./")).read_bytes() if url else None


def test_the_sites_python_is_one_archive_of_pyc_where_node_is_installed(dist):
    require(compile_pyc.node() is not None, "no node on the PATH: the site's Python is shipped as source")
    table = pyscript_files.files_table((dist / "pyscript.toml").read_text())
    assert table[site_python.ARCHIVE] == site_python.UNPACK_INTO
    assert not [url for url in table if url.endswith(".py")], table
    assert not list(dist.rglob("*.py"))
    sources = site_python.sources((ROOT / "pyscript.toml").read_text())
    with zipfile.ZipFile(dist / site_python.ARCHIVE.removeprefix("./")) as z:
        names = z.namelist()
        assert sorted(names) == sorted(dst.removeprefix("./")[:-3] + ".pyc" for dst in sources.values())
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}  # the .br copy compresses it whole
        for name in names:
            assert z.read(name)[:8] == PY312_MAGIC + (1).to_bytes(4, "little"), name
        # Without docstrings (the site never reads __doc__), with the strings the code uses.
        reader = z.read("engine/number_reader.pyc")
        assert b"Read every digit in a 2-D grayscale image" not in reader
        assert b"read_number needs a 2-D grayscale image" in reader


def test_the_built_config_names_the_archive_in_place_of_the_sources():
    text = (ROOT / "pyscript.toml").read_text()
    built = site_python.without_sources(text)
    table = pyscript_files.files_table(built)
    assert list(table)[0] == site_python.ARCHIVE and table[site_python.ARCHIVE] == "./*"
    before = pyscript_files.files_table(text)
    assert {u: d for u, d in table.items() if u != site_python.ARCHIVE} == {
        u: d for u, d in before.items() if not u.endswith(".py")
    }
    assert "./models/mnist_int8.npz" in table and "./engine/replay.npz" in table
    assert built.split("[files]")[0] == text.split("[files]")[0]  # the rest of the file is untouched


def test_dist_has_nothing_else(dist):
    assert not (dist / "train_offline.py").exists()
    assert not (dist / "data").exists() and not (dist / "tests").exists()
    assert not list(dist.rglob("__pycache__"))
    assert all(shipped_python(dist, "./" + path) for path in pyscript_files.engine_modules(ROOT))


def test_refuses_to_overwrite_the_repository():
    with pytest.raises(build_site.BuildError):
        build_site.build(ROOT, log=lambda *a: None)


def test_compressed_copies_are_written_where_they_pay_and_decode_to_the_file(dist):
    copies = [p for p in dist.rglob("*") if p.suffix in (".gz", ".br")]
    assert copies
    for copy in copies:
        original = copy.with_name(copy.name[: -len(copy.suffix)])
        assert original.is_file(), copy
        assert original.suffix.lower() not in build_site.COMPRESSED_SUFFIXES, copy
        data = original.read_bytes()
        packed = copy.read_bytes()
        assert len(packed) <= 0.9 * len(data), f"{copy}: {len(packed)} of {len(data)} bytes"
        if copy.suffix == ".gz":
            assert gzip.decompress(packed) == data, copy
        elif build_site.brotli is not None:
            assert build_site.brotli.decompress(packed) == data, copy
        assert copy.stat().st_mtime == original.stat().st_mtime, copy  # a server compares the two


def test_the_big_files_the_page_fetches_have_copies_and_compressed_formats_none(dist):
    for rel in ("web/vendor/pyodide/pyodide.asm.wasm", "web/vendor/pyodide/pyodide.asm.js", "index.html"):
        assert (dist / (rel + ".gz")).is_file(), rel
    require(build_site.brotli is not None, "the brotli package is not installed (pip install -e '.[test]')")
    assert (dist / "web/vendor/pyodide/pyodide.asm.wasm.br").is_file()
    for rel in ("web/vendor/pyodide/python_stdlib.zip", "web/vendor/pyodide/" + numpy_wheel_name()):
        assert (dist / (rel + ".br")).is_file(), rel  # stored zips (repack_runtime.py), so they compress
    for already in ("*.npz", "*.png"):
        for p in dist.rglob(already):
            assert not p.with_name(p.name + ".gz").exists() and not p.with_name(p.name + ".br").exists(), p


def test_a_copy_is_kept_only_when_it_saves_a_tenth(tmp_path):
    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    rng = random.Random(0)
    (site / "noise.bin").write_bytes(rng.randbytes(19_000) + bytes(1_000))  # compresses by ~5%: not enough
    (site / "text.js").write_bytes(b"let x = 1;\n" * 500)
    (site / "model.npz").write_bytes(b"\0" * 20_000)  # compressible, but a format never recompressed
    summary = build_site.precompress(site, cache=cache)
    names = sorted(p.name for p in site.iterdir())
    want = ["model.npz", "noise.bin", "text.js", "text.js.gz"] + (["text.js.br"] if build_site.brotli else [])
    assert names == sorted(want)
    assert summary["files"] == 2 and summary[".gz"]["files"] == 1
    assert summary[".gz"]["bytes"] == 20_000 + (site / "text.js.gz").stat().st_size
    # Again, from the cache: the same bytes.
    again = tmp_path / "again"
    again.mkdir()
    (again / "text.js").write_bytes(b"let x = 1;\n" * 500)
    build_site.precompress(again, cache=cache)
    assert (again / "text.js.gz").read_bytes() == (site / "text.js.gz").read_bytes()


def test_the_runtime_archives_are_stored_zips_with_the_official_contents(dist):
    site = dist / "web/vendor/pyodide"
    lock = json.loads((site / "pyodide-lock.json").read_text())["packages"]["numpy"]
    wheel = site / lock["file_name"]
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == lock["sha256"]  # what Pyodide checks on load
    # Only what the site loads is listed (NumPy and the stdlib modules Pyodide ships apart).
    packages = json.loads((site / "pyodide-lock.json").read_text())["packages"]
    assert "numpy" in packages and "ssl" in packages and len(packages) < 12, sorted(packages)
    pyc = bool(repack_runtime.COMPILED)  # node was there: what start-up imports became .pyc
    for name, keep in ((lock["file_name"], repack_runtime.numpy_keeps), ("python_stdlib.zip", lambda n: True)):
        with zipfile.ZipFile(VENDORED / name) as official, zipfile.ZipFile(site / name) as repacked:
            kept = [i.filename for i in official.infolist() if keep(i.filename)]
            names = repacked.namelist()
            compiled = {n[:-1] for n in names if n.endswith(".pyc")}  # the rest keep their sources
            assert [n + "c" if n in compiled else n for n in kept] == names, name
            assert {i.compress_type for i in repacked.infolist()} == {zipfile.ZIP_STORED}, name
            edit = numpy_patches.patched if name == lock["file_name"] else (lambda n, data: data)
            assert all(edit(n, official.read(n)) == repacked.read(n) for n in kept if n not in compiled), name
            assert bool(compiled) == pyc, name
            for n in compiled:
                # CPython 3.12's magic number (Pyodide 0.27's Python), hash-based and unchecked (PEP 552)
                assert repacked.read(n + "c")[:8] == PY312_MAGIC + (1).to_bytes(4, "little"), (name, n)
    with zipfile.ZipFile(wheel) as repacked:
        names = repacked.namelist()
    ext = ".pyc" if pyc else ".py"  # imported by `import numpy`; numpy.linalg no longer is
    assert f"numpy/__init__{ext}" in names and "numpy/linalg/__init__.py" in names
    for patched in numpy_patches.PATCHES:
        assert patched + ("c" if pyc else "") in names, patched  # both on start-up's path
    assert not [n for n in names if n.startswith("numpy/f2py/") or n.endswith(".pyi")]


def test_the_runtime_python_is_precompiled_where_node_is_installed(dist):
    require(compile_pyc.node() is not None, "no node on the PATH: the runtime's Python is shipped as source")
    assert len(repack_runtime.COMPILED) == 2 and all("0 did not compile" in line for line in repack_runtime.COMPILED)
    with zipfile.ZipFile(dist / "web/vendor/pyodide/python_stdlib.zip") as stdlib:
        names = set(stdlib.namelist())
    # Pyodide's own start-up and what the engine imports are compiled; what the page never imports is not.
    assert {"_pyodide/_base.pyc", "pyodide/ffi/__init__.pyc", "dataclasses.pyc", "zipfile/__init__.pyc"} <= names
    assert {"xml/dom/minidom.py", "unittest/case.py"} <= names


def test_the_precache_list_states_the_repacked_sizes_and_a_new_version(dist):
    precache = json.loads((dist / "web/vendor/precache.json").read_text())
    vendored = json.loads((vendor.VENDOR_DIR / "precache.json").read_text())
    pyc = repack_runtime.PYC_SUFFIX if repack_runtime.COMPILED else ""
    assert precache["version"] == vendored["version"] + repack_runtime.VERSION_SUFFIX + pyc
    for entry in precache["files"]:
        assert entry["bytes"] == (dist / entry["url"]).stat().st_size, entry["url"]


def test_a_wheel_that_is_not_the_official_build_is_refused(tmp_path):
    require(vendor.is_current(vendor.sha256_bytes(vendor.LOCK_PATH.read_bytes())), "web/vendor/ not vendored here")
    copy = tmp_path / "vendor"
    (copy / "pyodide").mkdir(parents=True)
    for name in ("pyodide-lock.json", "python_stdlib.zip"):
        (copy / "pyodide" / name).write_bytes((VENDORED / name).read_bytes())
    wheel = (VENDORED / numpy_wheel_name()).read_bytes()
    (copy / "pyodide" / numpy_wheel_name()).write_bytes(wheel[:-1] + bytes([wheel[-1] ^ 1]))
    with pytest.raises(repack_runtime.RepackError, match="sha256"):
        repack_runtime.repack(copy)


# Run in Node by the built site's own Pyodide, with its repacked (patched) NumPy.
NUMPY_IN_PYODIDE = """
import path from "node:path";
import { pathToFileURL } from "node:url";
const dir = process.argv[2];
const { loadPyodide } = await import(pathToFileURL(path.join(dir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: path.resolve(dir) + "/" });
await pyodide.loadPackage("numpy", { messageCallback: () => {} });
console.log(pyodide.runPython(`
import json, sys
import numpy as np
loaded = "numpy.linalg" in sys.modules
m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
json.dumps({
    "linalg_at_import": loaded,
    "matrix_power": (m ** 3).tolist(),
    "polyfit": np.polyfit([0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 7.0, 13.0], 2).round(9).tolist(),
    "roots": sorted(np.roots([1.0, -3.0, 2.0]).round(9).tolist()),
    "inv": np.linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]])).tolist(),
    "name": np.lib._polynomial_impl.lstsq.__name__,
})
`));
"""


def test_the_sites_numpy_imports_linalg_only_when_it_is_used(dist, tmp_path):
    """scripts/numpy_patches.py: `import numpy` skips numpy.linalg (two extension modules, 0.1 s of a
    start), and what bound its functions at import still works, importing it on first use."""
    node = compile_pyc.node()
    require(node is not None, "node (Node.js >= 18) is not installed")
    driver = tmp_path / "numpy_in_pyodide.mjs"
    driver.write_text(NUMPY_IN_PYODIDE)
    out = subprocess.run(
        [node, str(driver), str(dist / "web/vendor/pyodide")], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["linalg_at_import"] is False
    assert got["matrix_power"] == [[37.0, 54.0], [81.0, 118.0]]
    assert got["polyfit"] == [1.0, 1.0, 1.0]
    assert got["roots"] == [1.0, 2.0]
    assert got["inv"] == [[0.5, 0.0], [0.0, 0.25]]
    assert got["name"] == "lstsq"


def test_a_numpy_patch_whose_text_moved_stops_the_build():
    name, (old, _) = next(iter(numpy_patches.PATCHES.items()))
    assert numpy_patches.patched("numpy/other.py", b"x = 1\n") == b"x = 1\n"
    with pytest.raises(numpy_patches.PatchError, match="not there once"):
        numpy_patches.patched(name, b"import numpy\n")
    with pytest.raises(numpy_patches.PatchError, match="not there once"):
        numpy_patches.patched(name, (old + old).encode())
    with pytest.raises(numpy_patches.PatchError, match="has no"):
        numpy_patches.check_all_applied({name})
