"""Reading and writing IDX files, the format MNIST is distributed in.

Layout (big-endian): two zero bytes, a type code, the number of dimensions,
one uint32 per dimension, then the data. Files may be gzip-compressed; that is
detected from the first bytes, not the file name. Every check happens before
the data is read or allocated, and every problem is an ``IdxFormatError``
naming the file.
"""

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from .atomic import atomic_write_bytes
from .errors import IdxFormatError

GZIP_MAGIC = b"\x1f\x8b"
# type code -> big-endian dtype
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
DTYPE_CODES = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
MAX_DATA_BYTES = 1 << 28  # 256 MiB: MNIST's training images are 47 MB, EMNIST's digits 188 MB
CHUNK_BYTES = 1 << 20  # gzip data is read in pieces this big: memory follows what is there, not the header


def _open(path: Path):
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb"), compressed


def _read_at_most(stream, nbytes: int) -> bytearray:
    """Up to ``nbytes`` from ``stream``, read in CHUNK_BYTES pieces onto one growing buffer.

    A gzip file's size says nothing about its content's, so a damaged header can declare
    256 MiB in a 60-byte file: memory follows the data that is really there. The buffer grows
    in place (a large block is remapped, not copied), so no second copy is made to join pieces.
    """
    buffer = bytearray()
    while len(buffer) < nbytes:
        chunk = stream.read(min(nbytes - len(buffer), CHUNK_BYTES))
        if not chunk:
            break
        buffer += chunk
    return buffer


def read_idx(path) -> np.ndarray:
    """The array stored in IDX file ``path`` (raw or gzip), in native byte order."""
    path = Path(path)
    if not path.is_file():
        raise IdxFormatError(f"{path}: no such file; pass the folder holding the four MNIST IDX files")
    try:
        stream, compressed = _open(path)
        with stream:
            header = stream.read(4)
            if len(header) < 4:
                raise IdxFormatError(f"{path}: file too short for an IDX header ({len(header)} bytes)")
            if header[:2] != b"\x00\x00":
                raise IdxFormatError(f"{path}: bad magic {header[:2].hex()} (expected 0000); not an IDX file")
            code, ndim = header[2], header[3]
            if code not in IDX_TYPES:
                raise IdxFormatError(
                    f"{path}: unknown IDX type code 0x{code:02x}; "
                    f"expected one of {', '.join(f'0x{c:02x}' for c in IDX_TYPES)}"
                )
            if not 1 <= ndim <= 4:
                raise IdxFormatError(f"{path}: {ndim} dimensions declared; IDX files here have 1 to 4")
            dims_raw = stream.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise IdxFormatError(f"{path}: truncated in the dimension list")
            shape = tuple(int(d) for d in np.frombuffer(dims_raw, ">u4"))
            dtype = np.dtype(IDX_TYPES[code])
            nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if nbytes > MAX_DATA_BYTES:
                raise IdxFormatError(
                    f"{path}: declared shape {shape} needs {nbytes} bytes, over the "
                    f"{MAX_DATA_BYTES}-byte limit; the header is corrupt"
                )
            extent = int(np.prod([max(d, 1) for d in shape], dtype=object)) * dtype.itemsize
            if extent > MAX_DATA_BYTES:  # empty, yet NumPy could not even make an array of that shape
                raise IdxFormatError(
                    f"{path}: declared shape {shape} holds no data but its other dimensions "
                    f"span {extent} bytes, over the {MAX_DATA_BYTES}-byte limit; the header is corrupt"
                )
            if not compressed:
                actual = os.path.getsize(path) - 4 - 4 * ndim
                if actual != nbytes:
                    raise IdxFormatError(
                        f"{path}: header declares shape {shape} ({nbytes} data bytes) but the "
                        f"file holds {actual}; it is {'truncated' if actual < nbytes else 'too long'}"
                    )
            if compressed:
                data = _read_at_most(stream, nbytes)
            else:  # the size is checked: read it straight into its buffer
                data = bytearray(nbytes)
                del data[stream.readinto(data) :]  # in place: a slice would be a copy
            if len(data) != nbytes:
                raise IdxFormatError(f"{path}: truncated: {len(data)} of {nbytes} data bytes for shape {shape}")
            if stream.read(1):
                raise IdxFormatError(f"{path}: extra bytes after the {nbytes} data bytes of shape {shape}")
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise IdxFormatError(f"{path}: cannot read ({type(exc).__name__}: {exc}); the file is corrupt") from None
    array = np.frombuffer(data, dtype).reshape(shape)  # the buffer itself, writable: no second copy
    if not array.dtype.isnative:
        array = array.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return array


def write_idx(path, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as IDX (gzip when ``compress`` is true, or by default when the name ends in .gz).

    The file appears atomically: written to a temporary name in the same folder, then renamed.
    """
    path = Path(path)
    array = np.asarray(array)
    code = DTYPE_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, float32 or float64")
    if not 1 <= array.ndim <= 4:
        raise ValueError(f"IDX here stores 1 to 4 dimensions, got {array.ndim}")
    compress = path.suffix == ".gz" if compress is None else compress
    payload = (
        bytes([0, 0, code, array.ndim])
        + np.array(array.shape, ">u4").tobytes()
        + np.ascontiguousarray(array, IDX_TYPES[code]).tobytes()
    )
    if compress:
        payload = gzip.compress(payload, compresslevel=6, mtime=0)  # mtime=0: same bytes every time
    atomic_write_bytes(path, payload)
