"""Repack the runtime's two big archives in a built site as stored (uncompressed) zips.

Pyodide's NumPy wheel and its standard-library zip come deflated, entry by entry, so
a host's gzip or brotli cannot shrink them further and they made up 5.4 MB of a
first visit. Stored, the site's precompressed copies compress each archive whole,
with brotli's window spanning files: the wheel goes from 3.06 MB (deflated) to
1.79 MB as .br (2.73 MB as .gz), the stdlib zip from 2.36 MB to 1.49 MB (2.05 MB).
A host that sends neither copy sends the stored archives plain (11.2 MB and 9.0 MB),
so serve dist/ with its precompressed copies.

The wheel also loses what the page never imports: NumPy's Fortran wrapper
generator (``numpy.f2py``, loaded only on ``np.f2py``), the PyInstaller hooks and
the type stubs and Cython headers (.pyi, .pxd), and imports ``numpy.linalg`` only when it is
used (scripts/numpy_patches.py: two import lines, 0.1 s of every start). It is checked against the sha256
in Pyodide's lock file (the official build) before it is touched, and the lock
file then pins the repacked wheel's own sha256 and lists only what the site loads.
``precache.json`` gets the new sizes and a new version, so a service worker that
cached the deflated archives swaps its cache instead of mixing the two.

Standard library only; runs on dist/, never on web/vendor/ (the vendored tree
stays byte-for-byte what the registries published).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compile_pyc  # noqa: E402
import numpy_patches  # noqa: E402

NUMPY_UNUSED_DIRS = ("numpy/f2py/", "numpy/_pyinstaller/")
NUMPY_UNUSED_SUFFIXES = (".pyi", ".pxd")
STDLIB_NAME = "python_stdlib.zip"
LOCK_NAME = "pyodide-lock.json"
PRECACHE_NAME = "precache.json"
VERSION_SUFFIX = "-stored"
PYC_SUFFIX = "-pyc"  # added when the archives' Python is precompiled (scripts/compile_pyc.py)
COMPILED: list[str] = []  # what the last repack compiled, one line per archive (empty: no node)


class RepackError(RuntimeError):
    pass


def trimmed_packages(packages: dict) -> dict:
    """The lock file's packages a site needs: NumPy, and the stdlib modules Pyodide ships apart
    (``cpython_module``: its import hook names them when one is missing); the other 340-odd of
    Pyodide's distribution would be fetched and parsed on every start (105 -> ~2 kB)."""
    return {name: p for name, p in packages.items() if name == "numpy" or p.get("package_type") == "cpython_module"}


def numpy_keeps(name: str) -> bool:
    return not (name.startswith(NUMPY_UNUSED_DIRS) or name.endswith(NUMPY_UNUSED_SUFFIXES))


def stored_copy(archive: bytes, keep=lambda name: True, edit=lambda name, data: data) -> bytes:
    """The zip ``archive`` with every kept entry stored (its bytes passed through ``edit``), in the
    same order with the same names and timestamps (so the same input always gives the same bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            if keep(info.filename):
                data = edit(info.filename, src.read(info))
                info.compress_type = zipfile.ZIP_STORED
                dst.writestr(info, data)
    return out.getvalue()


def repack(vendor_dir: Path, site: Path | None = None) -> dict[str, tuple[int, int]]:
    """Repack ``vendor_dir``/pyodide's NumPy wheel and stdlib zip in place (a site's copy of
    web/vendor/), their Python precompiled where node is installed (what the page at ``site``
    imports at start-up, or all of it without a site); returns {file name: (bytes before, bytes after)}."""
    pyodide = vendor_dir / "pyodide"
    lock_path = pyodide / LOCK_NAME
    lock = json.loads(lock_path.read_text())
    numpy = lock["packages"]["numpy"]
    wheel = pyodide / numpy["file_name"]
    data = wheel.read_bytes()
    if hashlib.sha256(data).hexdigest() != numpy["sha256"]:
        raise RepackError(f"{wheel}: its sha256 is not the one {LOCK_NAME} pins; run scripts/vendor.py again")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as official:
            numpy_patches.check_all_applied(set(official.namelist()))
        wheel.write_bytes(stored_copy(data, numpy_keeps, numpy_patches.patched))
    except numpy_patches.PatchError as exc:
        raise RepackError(str(exc)) from exc
    stdlib = pyodide / STDLIB_NAME
    before = stdlib.read_bytes()
    stdlib.write_bytes(stored_copy(before))
    compiled = compile_pyc.compile_archives(
        pyodide, [(wheel, compile_pyc.SITE_PACKAGES), (stdlib, compile_pyc.STDLIB_PREFIX)], site
    )
    repacked = wheel.read_bytes()
    numpy["sha256"] = hashlib.sha256(repacked).hexdigest()
    lock["packages"] = trimmed_packages(lock["packages"])
    lock_path.write_text(json.dumps(lock, separators=(",", ":")))
    sizes = {wheel.name: (len(data), len(repacked)), stdlib.name: (len(before), stdlib.stat().st_size)}
    COMPILED[:] = compiled if compiled is not None else []

    precache_path = vendor_dir / PRECACHE_NAME
    precache = json.loads(precache_path.read_text())
    for entry in precache["files"]:
        path = vendor_dir / entry["url"].removeprefix("web/vendor/")
        entry["bytes"] = path.stat().st_size
        entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    suffix = VERSION_SUFFIX + (PYC_SUFFIX if compiled is not None else "")
    precache["version"] = precache["version"].removesuffix(PYC_SUFFIX).removesuffix(VERSION_SUFFIX) + suffix
    precache_path.write_text(json.dumps(precache, indent=1) + "\n")
    return sizes
