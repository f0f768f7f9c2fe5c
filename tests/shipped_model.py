"""The shipped model file as bytes, its arrays and its zip layout, and ways to rebuild it changed.

The load_model property tests (test_properties_model_file.py) and the mutation strategies
(model_mutants.py) build every file they load from these.
"""

import io
import struct
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = ROOT / "models" / "mnist_int8.npz"

SHIPPED = SHIPPED_MODEL.read_bytes()
with np.load(io.BytesIO(SHIPPED), allow_pickle=False) as _npz:
    SHIPPED_ARRAYS = {name: _npz[name] for name in _npz.files}
META_NAMES = ("architecture", "card", "preprocessing")
WEIGHT_NAMES = sorted(name for name in SHIPPED_ARRAYS if "." in name)


def _zip_layout(data: bytes):
    """Offsets of each member's local header, its compressed data and its central-directory entry."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    eocd = data.rindex(b"PK\x05\x06")
    central, pos = [], struct.unpack_from("<I", data, eocd + 16)[0]
    for _ in infos:
        assert data[pos : pos + 4] == b"PK\x01\x02"
        central.append(pos)
        pos += 46 + sum(struct.unpack_from("<HHH", data, pos + 28))
    local = [info.header_offset for info in infos]
    start = [off + 30 + sum(struct.unpack_from("<HH", data, off + 26)) for off in local]
    return infos, local, start, central, eocd


INFOS, LOCAL, DATA_START, CENTRAL, EOCD = _zip_layout(SHIPPED)
MEMBER = {info.filename: i for i, info in enumerate(INFOS)}


def npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def rewrite_member(name: str, content: bytes) -> bytes:
    """The shipped zip with member ``name`` replaced by ``content`` (CRC and sizes made consistent)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(SHIPPED)) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, content if info.filename == name else src.read(info.filename))
    return buffer.getvalue()


def patched(offset: int, fmt: str, value) -> bytes:
    data = bytearray(SHIPPED)
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


def member_content(name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(SHIPPED)) as zf:
        return zf.read(name)
