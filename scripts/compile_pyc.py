"""Ship the runtime's Python precompiled: the stdlib zip and the NumPy wheel with .pyc for .py.

Pyodide 0.27.7's python_stdlib.zip and NumPy wheel hold Python sources only, and a zip
import cannot cache what it compiles, so every visit compiled them again inside the page:
Pyodide's own start-up (``finalizeBootstrap``, which imports its ``pyodide`` package and
what that needs) took 4-5.5 s of a first visit on a loaded 2-core machine, nearly all of it
compiling (bench/load_breakdown.py --instrument). Each .py entry that the page imports
before its first reading is replaced by a sourceless .pyc (hash-based and unchecked, PEP
552, so the loader neither needs nor reads a source), compiled by the site's own Pyodide
running in Node.js: the bytecode is exactly the interpreter's, whatever CPython the build
runs on. Which entries those are is found by running the page's start-up there: the site's
[files] written as web/compute.js writes them, NumPy loaded, web/main.py imported and one digit
read. Tracebacks through the compiled files name the file and line, without the line's
text. The other entries keep their sources: bytecode compresses to about twice the bytes of
source, and compiling all of the stdlib zip would add 1.1 MB to a first visit (0.5 MB for
the 158 modules start-up needs).

The site's own modules (the engine, web/*.py) are compiled too, all of them, into one
archive of their own (``compile_files``, used by scripts/site_python.py): shipped as 50
separate pycs they saved 0.1-0.2 s of importing and cost more than that in requests.

Needs ``node`` (Node.js >= 18) on the PATH; without it the archives keep their sources
and the build says so. Standard library only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "compile_pyc.mjs"
STDLIB_PREFIX = "/lib/python312.zip/"  # where Pyodide puts the stdlib zip (what tracebacks name)
SITE_PACKAGES = "/lib/python3.12/site-packages/"  # where it unpacks a wheel


class CompileError(RuntimeError):
    pass


def node() -> str | None:
    return shutil.which("node")


def compile_archives(pyodide_dir: Path, archives: list[tuple[Path, str]], site: Path | None = None) -> list[str] | None:
    """Replace the .py entries of each (zip, prefix) in place by .pyc compiled with the Pyodide in
    ``pyodide_dir`` (which must still hold a stdlib zip with sources): all of them, or with ``site``
    (a built site) those the page's start-up and first reading import. Returns node's summary
    lines, or None when there is no node."""
    exe = node()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="pyc-") as tmp:
        args = [exe, str(SCRIPT), str(pyodide_dir), str(site) if site else "-"]
        outs = []
        for path, prefix in archives:
            out = Path(tmp) / path.name
            args += [str(path), str(out), prefix]
            outs.append((out, path))
        done = subprocess.run(args, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise CompileError(f"compiling the runtime's Python failed:\n{done.stderr.strip()[-2000:]}")
        for out, path in outs:
            shutil.copyfile(out, path)
    return [line for line in done.stdout.splitlines() if ": " in line and "compiled" in line]


def compile_files(pyodide_dir: Path, pairs: list[tuple[Path, str]], out: Path) -> str | None:
    """Compile each (source, name) with the Pyodide in ``pyodide_dir`` into the new stored zip ``out``,
    as the entry name[:-3] + ".pyc"; returns node's summary line, or None when there is no node."""
    exe = node()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="pyc-") as tmp:
        listing = Path(tmp) / "files.json"
        listing.write_text(json.dumps([[str(src), name] for src, name in pairs]))
        args = [exe, str(SCRIPT), str(pyodide_dir), "--files", str(listing), str(out)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise CompileError(f"compiling the site's Python failed:\n{done.stderr.strip()[-2000:]}")
    return done.stdout.strip().splitlines()[-1]
