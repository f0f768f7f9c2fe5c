"""Property tests (hypothesis): ``engine.read_idx`` on valid and mutated IDX files.

For valid files, raw or gzip, mutated at random, read_idx must either return a well-formed
array or raise ``IdxFormatError`` (an ``engine.EngineError``) naming the file: never another
exception, a NumPy warning, a hang or an allocation of what a lying header declares. The
named tests below the properties are the smallest reproductions of what they found.
"""

import gzip
import struct
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine
from engine.idx import MAX_DATA_BYTES
from property_settings import fixed, warnings_are_errors


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """One folder for the module: hypothesis runs many examples per test, each rewrites the same file."""
    return tmp_path_factory.mktemp("properties")


IDX_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}
MAX_IDX_BYTES = MAX_DATA_BYTES  # read_idx's documented limit on the data a header may declare
DECLARED_CAP = 64 << 20  # generated headers declare at most this, or more than read_idx's limit
ALLOCATION_CAP = 4 << 20  # every generated file holds well under 1 MB: reading one may use this much


@st.composite
def idx_arrays(draw, max_side=6):
    dtype = draw(st.sampled_from(sorted(IDX_CODES, key=str)))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=max_side))
    return draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(dtype)))  # NaN, inf, -0.0, extremes


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array``, written here independently of engine.write_idx."""
    return (
        bytes([0, 0, IDX_CODES[array.dtype], array.ndim])
        + np.array(array.shape, ">u4").tobytes()
        + array.astype(array.dtype.newbyteorder(">")).tobytes()
    )


def declared_bytes(raw: bytes) -> int | None:
    """Bytes of data an (uncompressed) IDX header declares, if it parses that far."""
    if len(raw) < 4 or raw[2] not in IDX_CODES.values() or not 1 <= raw[3] <= 4 or len(raw) < 4 + 4 * raw[3]:
        return None
    itemsize = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}[raw[2]]
    dims = struct.unpack(f">{raw[3]}I", raw[4 : 4 + 4 * raw[3]])
    return int(np.prod(dims, dtype=object)) * itemsize


DIMENSIONS = st.one_of(
    st.integers(0, 64), st.sampled_from([255, 4095, 1 << 16, 1 << 20, 1 << 22, 1 << 24, 1 << 26, 2**32 - 1])
)


@st.composite
def byte_edits(draw, data: bytes, header_bytes: int = 24) -> bytes:
    """``data`` with 1 to 4 random edits: bit flips, byte writes, truncation, insertion, deletion,
    most of them in the first ``header_bytes`` bytes, where the format's fields are."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        span = len(data) if draw(st.booleans()) else min(len(data), header_bytes)
        pos = draw(st.integers(0, max(span - 1, 0)))
        op = draw(st.sampled_from(["flip", "write", "truncate", "insert", "delete"]))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "write" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
    return bytes(data)


@st.composite
def header_edits(draw, raw: bytes) -> bytes:
    """``raw`` with its type code, dimension count or one dimension rewritten."""
    raw = bytearray(raw)
    field = draw(st.sampled_from(["code", "ndim", "dim"]))
    if field == "code":
        raw[2] = draw(st.integers(0, 255))
    elif field == "ndim":
        raw[3] = draw(st.integers(0, 255))
    else:
        k = draw(st.integers(0, raw[3] - 1))
        raw[4 + 4 * k : 8 + 4 * k] = struct.pack(">I", draw(DIMENSIONS))
    return bytes(raw)


@st.composite
def mutated_idx_files(draw) -> bytes:
    """Valid IDX files (raw or gzip) mutated in their header, their bytes or their gzip container."""
    raw = idx_bytes(draw(idx_arrays(max_side=5)))
    kind = draw(
        st.sampled_from(
            [
                "header",
                "declares more",
                "bytes",
                "header+bytes",
                "gzip of mutant",
                "mutated gzip",
                "gzip of garbage",
                "garbage",
            ]
        )
    )
    if kind in ("header", "header+bytes"):
        raw = draw(header_edits(raw))
    if kind == "declares more":  # a few bytes that claim megabytes: reading must not allocate the claim
        k = draw(st.integers(0, raw[3] - 1))
        raw = (
            raw[: 4 + 4 * k] + struct.pack(">I", draw(st.sampled_from([1 << 20, 1 << 22, 1 << 24]))) + raw[8 + 4 * k :]
        )
    if kind in ("bytes", "header+bytes", "gzip of mutant"):
        raw = draw(byte_edits(raw))
    if kind == "garbage":
        raw = draw(st.binary(max_size=64))
    if kind == "gzip of garbage":
        raw = draw(st.one_of(st.binary(max_size=64), st.binary(max_size=60).map(lambda b: b"\x00\x00" + b)))
    declared = declared_bytes(raw)
    if declared is not None and DECLARED_CAP < declared <= MAX_IDX_BYTES:
        raw = raw[:3] + b"\x01\xff\xff\xff\xff" + raw[8:]  # declare 4 GiB or more instead: over the limit
    if kind in ("gzip of mutant", "gzip of garbage") or (kind != "mutated gzip" and draw(st.booleans())):
        return gzip.compress(raw, mtime=0)
    if kind == "mutated gzip":
        return draw(byte_edits(gzip.compress(raw, mtime=0)))
    return raw


def read_idx_bounded(path: Path):
    """read_idx(path) -> (array or the IdxFormatError, peak bytes allocated, seconds)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with warnings_are_errors():
            result = engine.read_idx(path)
    except engine.IdxFormatError as exc:
        result = exc
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak, seconds


@fixed(150)
@given(idx_arrays(), st.booleans(), st.sampled_from(["a.idx", "a.idx.gz", "noext"]))
def test_idx_round_trip_is_exact(workdir, array, compress, name):
    path = workdir / name
    engine.write_idx(path, array, compress=compress)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if compress else b"\x00\x00")
    out = engine.read_idx(path)
    assert out.dtype == array.dtype and out.dtype.isnative and out.shape == array.shape
    assert out.tobytes() == array.tobytes()  # bit for bit: NaN payloads and -0.0 included
    if not compress:
        assert path.read_bytes() == idx_bytes(array)


@fixed(400)
@given(mutated_idx_files(), st.sampled_from(["m.idx", "m.idx.gz"]))
def test_read_idx_on_mutated_files_returns_an_array_or_raises_idx_format_error(workdir, data, name):
    path = workdir / name
    path.write_bytes(data)
    result, peak, seconds = read_idx_bounded(path)
    assert seconds < 5, f"read_idx took {seconds:.1f} s on a {len(data)}-byte file"
    assert peak < ALLOCATION_CAP, f"read_idx allocated {peak} bytes for a {len(data)}-byte file"
    if isinstance(result, engine.IdxFormatError):
        assert str(path) in str(result), "IdxFormatError must name the file"
    else:
        assert isinstance(result, np.ndarray) and 1 <= result.ndim <= 4
        assert result.dtype in IDX_CODES and result.dtype.isnative


@fixed(100)
@given(idx_arrays(), st.booleans(), st.booleans(), st.data())
def test_read_idx_refuses_any_truncation_or_extension(workdir, array, compress, truncate, data):
    raw = idx_bytes(array)
    if truncate:
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        raw = raw + data.draw(st.binary(min_size=1, max_size=16))
    path = workdir / "cut.idx"
    path.write_bytes(gzip.compress(raw, mtime=0) if compress else raw)
    with pytest.raises(engine.IdxFormatError, match="truncated|too short" if truncate else "too long|extra bytes"):
        engine.read_idx(path)


def test_gzip_idx_declaring_the_limit_allocates_only_what_it_holds(workdir):
    """A 28-byte gzip file whose header declares read_idx's whole limit is refused after reading what it holds."""
    path = workdir / "liar.idx.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 0x08, 1]) + struct.pack(">I", MAX_IDX_BYTES) + b"\x00" * 100))
    result, peak, _ = read_idx_bounded(path)
    assert isinstance(result, engine.IdxFormatError) and "truncated" in str(result)
    assert peak < ALLOCATION_CAP, f"read_idx allocated {peak} bytes for a file holding 100 data bytes"


def test_empty_idx_with_huge_dimensions_is_an_idx_format_error(workdir):
    path = workdir / "empty.idx"
    path.write_bytes(bytes([0, 0, 0x0E, 4]) + struct.pack(">4I", 0, 2**32 - 1, 2**32 - 1, 2**32 - 1))
    with pytest.raises(engine.IdxFormatError, match="shape"):
        engine.read_idx(path)


def test_a_gzip_bomb_under_the_limit_costs_its_size_not_twice_it(workdir):
    """64 MiB of zeros, one byte short of what the header declares: the pieces read are not joined into a
    second copy (a 1.6 GB bomb under the old 2 GiB limit took 3.3 GB)."""
    size = 64 << 20
    path = workdir / "bomb.idx.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 0x08, 1]) + struct.pack(">I", size) + bytes(size - 1), 1))
    result, peak, _ = read_idx_bounded(path)
    assert isinstance(result, engine.IdxFormatError) and "truncated" in str(result)
    assert peak < 1.3 * size, f"read_idx allocated {peak / size:.2f} times the data it read"
