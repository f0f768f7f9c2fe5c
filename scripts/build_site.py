#!/usr/bin/env python3
"""Assemble a self-contained copy of the site (`make site` -> dist/) for any static host.

dist/ gets exactly what the page loads: index.html, the service-worker entry
sw.js, pyscript.toml, web/ (the app, styles, icons and the vendored runtime),
and every file pyscript.toml's [files] table names (the engine modules, the
model and its card). Nothing else from the repository, so no training code or
data is published by accident. Copy dist/ anywhere that serves files over
http(s); `python scripts/serve.py --dir dist` previews it.

Beside every compressible file it writes precompressed copies for hosts that
serve them (nginx `gzip_static`/`brotli_static`, Caddy `precompressed`,
scripts/serve.py): `name.gz` (gzip level 9) and, when the `brotli` package is
installed, `name.br` (quality 11). A copy is kept only if it is at least 10%
smaller than the file; formats that are compressed already (.npz, .png, ...)
are skipped. The runtime's NumPy wheel and stdlib zip are first repacked as
stored zips (scripts/repack_runtime.py) so that these copies can shrink them,
and the site's own Python becomes one archive of .pyc (scripts/site_python.py).
The copies carry their original's mtime and are cached by content hash in
build/precompressed/, so only changed files are compressed again (brotli takes
about 45 s on the 10 MB wasm).

Standard library only (brotli optional).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import sys
from pathlib import Path

try:
    import brotli
except ImportError:  # optional: without it only .gz copies are written
    brotli = None

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import pyscript_files  # noqa: E402
import repack_runtime  # noqa: E402
import site_python  # noqa: E402
import vendor  # noqa: E402

TOP_FILES = ["index.html", "sw.js", "pyscript.toml"]
SKIP_NAMES = {"__pycache__", ".stamp.json", ".DS_Store"}

# Formats that are compressed already: another pass saves nothing and costs time. (.whl and .zip
# are not among them: the site's are stored zips, see repack_runtime.py.)
COMPRESSED_SUFFIXES = set(".npz .png .jpg .jpeg .gif .webp .avif .ico .woff .woff2 .gz .br .xz .bz2 .zst".split())
MIN_SAVING = 0.10  # keep a compressed copy only if it is at least this much smaller
GZIP_LEVEL = 9
BROTLI_QUALITY = 11
CACHE_DIR = ROOT / "build" / "precompressed"


class BuildError(RuntimeError):
    pass


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_NAMES or n.endswith(".pyc") or n.startswith(".vendor-")}


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)  # mtime=0: same input, same bytes


def _brotli(data: bytes) -> bytes:
    assert brotli is not None
    return brotli.compress(data, quality=BROTLI_QUALITY)


def codecs() -> dict[str, tuple[str, object]]:
    """{suffix: (cache tag, compress function)} of the copies this build writes."""
    found: dict[str, tuple[str, object]] = {".gz": (f"gz{GZIP_LEVEL}", _gzip)}
    if brotli is not None:
        found[".br"] = (f"br{BROTLI_QUALITY}", _brotli)
    return found


def _compressed(data: bytes, tag: str, compress, cache: Path | None) -> bytes:
    """compress(data), through the content-addressed cache when there is one."""
    if cache is None:
        return compress(data)
    entry = cache / f"{hashlib.sha256(data).hexdigest()}.{tag}"
    try:
        return entry.read_bytes()
    except OSError:
        pass
    packed = compress(data)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = entry.with_name(entry.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(packed)
    os.replace(tmp, entry)
    return packed


def precompress(site: Path, cache: Path | None = CACHE_DIR) -> dict:
    """Write `.gz` (and `.br`) beside every file of `site` where it saves >= MIN_SAVING.

    Returns {'files': n considered, 'bytes': their total, '.gz': {'files', 'bytes'}, ...}: for each
    suffix, how many copies were written and what the considered files weigh when each is sent in
    that coding where it has a copy and plain where not.
    """
    todo = sorted(p for p in site.rglob("*") if p.is_file() and p.suffix.lower() not in COMPRESSED_SUFFIXES)
    chosen = codecs()
    summary: dict = {"files": 0, "bytes": 0, **{suffix: {"files": 0, "bytes": 0} for suffix in chosen}}
    for path in todo:
        data = path.read_bytes()
        summary["files"] += 1
        summary["bytes"] += len(data)
        stat = path.stat()
        for suffix, (tag, compress) in chosen.items():
            packed = _compressed(data, tag, compress, cache)
            if len(packed) <= (1 - MIN_SAVING) * len(data):
                copy = path.with_name(path.name + suffix)
                copy.write_bytes(packed)
                os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # servers compare the two
                summary[suffix]["files"] += 1
                summary[suffix]["bytes"] += len(packed)
            else:
                summary[suffix]["bytes"] += len(data)
    return summary


def build(out: Path, log=print, cache: Path | None = CACHE_DIR) -> dict:
    """Write the site into `out` (replacing it), with precompressed copies.

    Returns {'files': n, 'bytes': total} of the site without the copies, and 'precompressed'
    (see precompress). `cache` holds compressed outputs by content hash (None: no cache).
    """
    out = out.resolve()
    if out == ROOT or ROOT.is_relative_to(out):
        raise BuildError(f"refusing to replace {out}: it contains the repository")
    vendor.vendor(log=log)  # a no-op when web/vendor/ is current

    files_table = pyscript_files.files_table((ROOT / "pyscript.toml").read_text())
    missing = [u for u in files_table if not (ROOT / u).is_file()]
    if missing:
        hint = " (train one with `make train`)" if any(m.startswith("./models/") for m in missing) else ""
        raise BuildError("pyscript.toml [files] names files that do not exist: " + ", ".join(missing) + hint)
    wanted = set(pyscript_files.engine_entries())
    unlisted = sorted(wanted - set(files_table))
    if unlisted:
        raise BuildError(
            "engine modules missing from pyscript.toml [files]: "
            + ", ".join(unlisted)
            + "; run `python scripts/pyscript_files.py --write`"
        )

    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in TOP_FILES:
        shutil.copy2(ROOT / name, staging / name)
    shutil.copytree(ROOT / "web", staging / "web", ignore=_ignore)
    for url in files_table:
        rel = url.removeprefix("./")
        if rel.startswith("web/"):
            continue  # already copied with web/
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, staging / rel)
    repacked = repack_runtime.repack(staging / "web" / "vendor", staging)
    site_compiled = site_python.bundle(staging)  # after the repack: its start-up run reads the sources
    paths = [p for p in staging.rglob("*") if p.is_file()]
    summary = {"files": len(paths), "bytes": sum(p.stat().st_size for p in paths)}
    summary["precompressed"] = packed = precompress(staging, cache)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)

    log(f"site written to {out}: {summary['files']} files, {summary['bytes'] / 1e6:.1f} MB")
    mb = lambda n: f"{n / 1e6:.1f} MB"  # noqa: E731
    for suffix in codecs():
        log(
            f"  {suffix} copies: {packed[suffix]['files']} of {packed['files']} compressible files "
            f"({mb(packed['bytes'])} -> {mb(packed[suffix]['bytes'])} as served)"
        )
    for name, (before, after) in repacked.items():
        log(f"  {name}: repacked as a stored zip, {mb(before)} -> {mb(after)} before compression")
    for line in repack_runtime.COMPILED:
        log(f"  {line} (.pyc, scripts/compile_pyc.py)")
    if site_compiled:
        log(f"  the site's Python: {site_compiled} ({site_python.ARCHIVE.removeprefix('./')}, scripts/site_python.py)")
    if not repack_runtime.COMPILED:
        log("  the runtime's Python is not precompiled (no node on the PATH): each visit compiles it, ~3 s slower")
    if brotli is None:
        log("  no .br copies: the brotli package is not installed (pip install brotli)")
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="output directory (default: dist/)")
    args = ap.parse_args(argv)
    try:
        build(args.out)
    except (BuildError, vendor.VendorError, repack_runtime.RepackError, repack_runtime.compile_pyc.CompileError) as exc:
        print(f"build_site.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
