"""Unpacking the artifacts into web/vendor/: the lock's extract rules, the NumPy wheel, licences.

Part of scripts/vendor.py (which puts the pieces together). Each artifact's
"extract" rules copy members of its .tgz or wheel into web/vendor/, checking the
ones that carry a sha256; the NumPy wheel must also be the one Pyodide's own
pyodide-lock.json expects; "notices" write the licence texts a package lacks.

Standard library only.
"""

from __future__ import annotations

import fnmatch
import json
import tarfile
import zipfile
from pathlib import Path

from vendor_download import VendorError, check_hash, sha256_bytes, sha256_file


def excluded(rel: str, patterns: list[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def _members(archive: Path):
    """Yield (name, reader) for every regular file of a .tgz or a wheel/zip."""
    if archive.name.endswith((".tgz", ".tar.gz")):
        with tarfile.open(archive, "r:gz") as tf:
            for m in tf:
                if m.isfile():
                    yield m.name, (lambda m=m, tf=tf: tf.extractfile(m).read())
    else:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, (lambda info=info, zf=zf: zf.read(info))


def extract(artifact: dict, archive: Path, dest: Path) -> dict[str, bytes]:
    """Copy the members the lock names into dest; return {relpath: bytes} of hashed files."""
    rules = artifact["extract"]
    hits = {id(r): 0 for r in rules}
    hashed: dict[str, bytes] = {}
    for name, read in _members(archive):
        for rule in rules:
            src, to = rule["from"], rule["to"]
            if src.endswith("/"):
                if not name.startswith(src):
                    continue
                rel = name[len(src) :]
                if excluded(rel, rule.get("exclude", [])):
                    continue
                target = to + rel
            elif name == src:
                target = to
            else:
                continue
            data = read()
            if "sha256" in rule:
                check_hash(
                    f"{artifact['name']}: {src} inside {artifact['filename']}", rule["sha256"], sha256_bytes(data)
                )
                hashed[target] = data
            out = dest / target
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            hits[id(rule)] += 1
            break
    for rule in rules:
        if not hits[id(rule)]:
            raise VendorError(f"{artifact['name']}: {rule['from']!r} not found in {artifact['filename']}")
    return hashed


def check_against_pyodide_lock(lock: dict, dest: Path) -> None:
    """Every wheel we add must be the one Pyodide's lock file expects, byte for byte."""
    plock = json.loads((dest / "pyodide" / "pyodide-lock.json").read_text())
    for artifact in lock["artifacts"]:
        for rule in artifact["extract"]:
            pkg = rule.get("pyodide_lock_package")
            if not pkg:
                continue
            entry = plock["packages"].get(pkg)
            if entry is None:
                raise VendorError(f"{artifact['name']}: pyodide-lock.json has no package {pkg!r}")
            if entry["file_name"] != Path(rule["to"]).name:
                raise VendorError(
                    f"{artifact['name']}: pyodide-lock.json expects {entry['file_name']}, the lock gives {rule['to']}"
                )
            check_hash(
                f"{artifact['name']}: {rule['to']} against pyodide-lock.json's {pkg}",
                entry["sha256"],
                sha256_file(dest / rule["to"]),
            )


def write_notices(lock: dict, dest: Path) -> None:
    for notice in lock.get("notices", []):
        text = notice["header"] + "\n\n"
        src = Path(notice["text_from"])
        if src.exists():
            text += src.read_text()
        else:
            text += "Full text: https://www.mozilla.org/en-US/MPL/2.0/\n"
        (dest / notice["to"]).write_text(text)
