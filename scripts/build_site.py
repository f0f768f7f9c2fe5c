#!/usr/bin/env python3
"""Assemble a self-contained copy of the site (`make site` -> dist/) for any static host.

dist/ gets exactly what the page loads: index.html, the service-worker entry
sw.js, pyscript.toml, web/ (the app, styles, icons and the vendored runtime),
and every file pyscript.toml's [files] table names (the engine modules, the
model and its card). Nothing else from the repository, so no training code or
data is published by accident. Copy dist/ anywhere that serves files over
http(s); `python scripts/serve.py --dir dist` previews it.

Standard library only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import pyscript_files  # noqa: E402
import vendor  # noqa: E402

TOP_FILES = ["index.html", "sw.js", "pyscript.toml"]
SKIP_NAMES = {"__pycache__", ".stamp.json", ".DS_Store"}


class BuildError(RuntimeError):
    pass


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_NAMES or n.endswith(".pyc") or n.startswith(".vendor-")}


def build(out: Path, log=print) -> dict:
    """Write the site into `out` (replacing it); return {'files': n, 'bytes': total}."""
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
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)

    paths = [p for p in out.rglob("*") if p.is_file()]
    summary = {"files": len(paths), "bytes": sum(p.stat().st_size for p in paths)}
    log(f"site written to {out}: {summary['files']} files, {summary['bytes'] / 1e6:.1f} MB")
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="output directory (default: dist/)")
    args = ap.parse_args(argv)
    try:
        build(args.out)
    except (BuildError, vendor.VendorError) as exc:
        print(f"build_site.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
