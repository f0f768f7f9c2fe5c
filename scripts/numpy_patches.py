"""The two lines of NumPy's source that a built site changes: ``numpy.linalg`` imported when first used.

``import numpy`` imports ``numpy.linalg`` only because two modules of its start-up bind a few
of its functions at import time (``numpy.matrixlib.defmatrix``: ``matrix_power``;
``numpy.lib._polynomial_impl``: ``eigvals``, ``lstsq``, ``inv``). That one import loads two
extension modules (``_umath_linalg``, 1.9 MB of WebAssembly, compiled and linked on every
visit, and ``lapack_lite``) and ``numpy._typing``, whose annotations cost ~30 ms to build in
Pyodide. The page never uses linear algebra (the engine's math is matmul and einsum, in the
main namespace), so each such name becomes a function that imports ``numpy.linalg`` on its
first call; ``numpy/__init__.py`` already loads ``np.linalg`` lazily on attribute access.

Applied by scripts/repack_runtime.py to the wheel's entries, after the official wheel's sha256
is checked, before they are compiled; each patch names the exact text it replaces and the
build fails when a NumPy upgrade changes that text (patch the new version or drop the patch).
"""

from __future__ import annotations

LAZY_LINALG = """\
def _linalg_when_called(name):
    # scripts/numpy_patches.py (the site's build): numpy.linalg is imported on first use
    def call(*args, **kwargs):
        import numpy.linalg
        return getattr(numpy.linalg, name)(*args, **kwargs)
    call.__name__ = call.__qualname__ = name
    return call
"""

PATCHES: dict[str, tuple[str, str]] = {
    "numpy/matrixlib/defmatrix.py": (
        "from numpy.linalg import matrix_power\n",
        LAZY_LINALG + 'matrix_power = _linalg_when_called("matrix_power")\n',
    ),
    "numpy/lib/_polynomial_impl.py": (
        "from numpy.linalg import eigvals, lstsq, inv\n",
        LAZY_LINALG + 'eigvals, lstsq, inv = (_linalg_when_called(n) for n in ("eigvals", "lstsq", "inv"))\n',
    ),
}


class PatchError(RuntimeError):
    pass


def patched(name: str, data: bytes) -> bytes:
    """The entry ``name``'s bytes with its patch applied (unchanged when it has none)."""
    if name not in PATCHES:
        return data
    old, new = PATCHES[name]
    text = data.decode("utf-8")
    if text.count(old) != 1:
        raise PatchError(f"{name}: the line scripts/numpy_patches.py replaces is not there once: {old.strip()!r}")
    return text.replace(old, new).encode("utf-8")


def check_all_applied(names: set[str]) -> None:
    """Every patch's file was in the wheel (a NumPy that moved one must not slip through)."""
    missing = sorted(set(PATCHES) - names)
    if missing:
        raise PatchError(f"NumPy's wheel has no {', '.join(missing)} (scripts/numpy_patches.py)")
