"""Ship the site's own Python (the engine, web/*.py, model_card.py) precompiled, as one archive.

In the repository, pyscript.toml's [files] lists each module's source, and the page's worker
(web/compute.js) fetches and writes them one by one; Python then compiles every one of them on
every visit, inside the page: `import engine` took 384 ms of a 2.2 s repeat visit, mostly
compiling (in Node.js, the same Pyodide imported the engine in 250 ms from sources and 78 ms
from .pyc). In a built site (scripts/build_site.py) they become one stored zip of sourceless
.pyc, compiled by the site's own Pyodide (scripts/compile_pyc.py, so the bytecode is the page's
interpreter's), fetched in one request, and unpacked into Python's home directory where the
sources would have been written. The built pyscript.toml names the zip in place of the sources,
in PyScript's own form for an archive to unpack (``"./a.zip" = "./folder/*"``), and the sources
are left out of the site. Without node the site keeps its sources.

The .pyc leave out the docstrings (nothing in the page reads ``__doc__``): 498 -> 417 kB, 178 ->
147 kB as br. Tracebacks through the compiled modules name the file and line, without the line's text.
Standard library only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compile_pyc  # noqa: E402
import pyscript_files  # noqa: E402

ARCHIVE = "./web/site-python.zip"
UNPACK_INTO = "./*"  # PyScript's form for an archive unpacked into a folder: here Python's home
COMMENT = "# The site's Python (the engine, web/*.py, model_card.py) as .pyc, unpacked: scripts/site_python.py."


def sources(toml_text: str) -> dict[str, str]:
    """The [files] entries that are Python sources, {url: destination}."""
    return {url: dst for url, dst in pyscript_files.files_table(toml_text).items() if url.endswith(".py")}


def without_sources(toml_text: str) -> str:
    """pyscript.toml's text with its Python sources' [files] lines replaced by one line for the archive."""
    names = set(sources(toml_text))
    kept = [
        line
        for line in toml_text.splitlines()
        if not ((m := re.match(r'^\s*"([^"]+)"\s*=', line)) and m.group(1) in names)
    ]
    at = kept.index("[files]") + 1
    kept[at:at] = [COMMENT, f'"{ARCHIVE}" = "{UNPACK_INTO}"']
    return "\n".join(kept) + "\n"


def bundle(site: Path) -> str | None:
    """Replace the built ``site``'s Python sources by the archive (see the module's doc); returns the
    compiler's summary line, or None when there is no node (the site then keeps its sources)."""
    toml = site / "pyscript.toml"
    text = toml.read_text()
    listed = sources(text)
    pairs = [(site / url.removeprefix("./"), dst.removeprefix("./")) for url, dst in listed.items()]
    said = compile_pyc.compile_files(site / "web" / "vendor" / "pyodide", pairs, site / ARCHIVE.removeprefix("./"))
    if said is None:
        return None
    toml.write_text(without_sources(text))
    for path, _ in pairs:
        path.unlink()
    for folder in sorted({p.parent for p, _ in pairs}, key=lambda p: -len(p.parts)):
        if folder != site and not any(folder.iterdir()):
            folder.rmdir()
    return said
