"""web/stored_zip.js, the worker's reader of stored zip archives, run in Node.js on archives
Python's zipfile writes: every entry arrives byte for byte, and anything it cannot read (compressed
entries, a name that climbs out of its folder, a cut-off or corrupted file) writes nothing and says so,
so the worker falls back to Python's zipfile."""

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRICT = os.environ.get("CI") == "true"

# A stand-in for Pyodide's FS: records what would be written, as {path: [byte, ...]} and the folders made.
DRIVER = """
import fs from "node:fs";
const { writeStoredZip } = await import(process.argv[2]);
const written = {}, folders = [];
const FS = {
  mkdirTree: (path) => folders.push(path),
  writeFile: (path, bytes) => { written[path] = Buffer.from(bytes).toString("base64"); },
};
const bytes = new Uint8Array(fs.readFileSync(process.argv[3]));
const ok = writeStoredZip(FS, bytes, "/dest/");
console.log(JSON.stringify({ ok, written, folders }));
"""


@pytest.fixture(scope="module")
def unpack(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        if STRICT:
            pytest.fail("node (Node.js >= 18) is not installed (CI=true: this test must run)")
        pytest.skip("node is not installed")
    work = tmp_path_factory.mktemp("stored_zip")
    (work / "driver.mjs").write_text(DRIVER)
    count = iter(range(10**6))

    def run(archive: bytes) -> dict:
        path = work / f"archive{next(count)}.zip"
        path.write_bytes(archive)
        module = (ROOT / "web" / "stored_zip.js").as_uri()
        proc = subprocess.run(
            [node, str(work / "driver.mjs"), module, str(path)], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads(proc.stdout)
        import base64

        result["written"] = {k: base64.b64decode(v) for k, v in result["written"].items()}
        return result

    return run


def archive(entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


ENTRIES = {
    "numpy/__init__.pyc": bytes(range(256)) * 40,
    "numpy/_core/_multiarray_umath.so": b"\0asm" + os.urandom(5000),
    "numpy-2.0.2.dist-info/RECORD": "numpy/__init__.pyc,,\nnaïve/é,,\n".encode(),
    "naïve/é.txt": b"",
    "empty/": b"",
}


def test_every_stored_entry_arrives_byte_for_byte(unpack):
    result = unpack(archive(ENTRIES))
    assert result["ok"] is True
    files = {name: data for name, data in ENTRIES.items() if not name.endswith("/")}
    assert result["written"] == {f"/dest/{name}": data for name, data in files.items()}
    assert {"/dest", "/dest/numpy/_core", "/dest/empty", "/dest/naïve"} <= set(result["folders"])


def test_the_site_archive_make_site_builds_is_read_in_javascript(unpack):
    """The archives the worker unpacks are stored ones: if a build compressed them, it would silently
    fall back to the slower Python path, so this guards the build as well."""
    for path in (ROOT / "web" / "site-python.zip", ROOT / "dist" / "web" / "site-python.zip"):
        if path.exists():
            with zipfile.ZipFile(path) as z:
                want = {f"/dest/{i.filename}": z.read(i) for i in z.infolist() if not i.is_dir()}
            result = unpack(path.read_bytes())
            assert result["ok"] is True, path
            assert result["written"] == want


@pytest.mark.parametrize(
    "damage", ["deflated", "climbs out", "absolute name", "cut off", "bad directory", "no end record", "size mismatch"]
)
def test_what_it_cannot_read_writes_nothing(unpack, damage):
    data = archive(ENTRIES)
    if damage == "deflated":
        data = archive(ENTRIES, zipfile.ZIP_DEFLATED)
    elif damage == "climbs out":
        data = archive({**ENTRIES, "../../etc/passwd": b"x"})
    elif damage == "absolute name":
        data = archive({"/etc/passwd": b"x"})
    elif damage == "cut off":
        data = data[: len(data) // 2] + data[-22:]
    elif damage == "bad directory":
        at = data.index(b"PK\x01\x02")
        data = data[:at] + b"XX" + data[at + 2 :]
    elif damage == "no end record":
        data = data[:-22]
    elif damage == "size mismatch":
        at = data.index(b"PK\x01\x02")
        data = data[: at + 20] + (7).to_bytes(4, "little") + data[at + 24 :]
    result = unpack(data)
    assert result == {"ok": False, "written": {}, "folders": []}
