"""Hypothesis strategies that draw mutations of the shipped model file, and the functions that apply them.

Each strategy draws a recipe, a short printable list of edits, and the test builds the file from
it: a failing example then reads as what was done to the shipped file, not as 100 KB of bytes.

Four kinds: edits of the zip's bytes (zip_byte_recipes), of one member's .npy bytes
(npy_member_recipes), of the JSON metadata (metadata_recipes) and of the weight arrays
(weight_recipes).
"""

import struct

import numpy as np
from hypothesis import strategies as st

from engine.npz import array_json, json_array
from shipped_model import (
    CENTRAL,
    DATA_START,
    EOCD,
    INFOS,
    LOCAL,
    MEMBER,
    META_NAMES,
    SHIPPED,
    SHIPPED_ARRAYS,
    WEIGHT_NAMES,
    member_content,
    npz_bytes,
    rewrite_member,
)

ZIP_VALUES16 = [0, 1, 2, 6, 8, 9, 12, 14, 20, 45, 63, 95, 98, 99, 0x0008, 0x0020, 0x0040, 0x0800, 0xFFFF]
ZIP_REGIONS = ["anywhere", "local header", "deflate data", "central directory", "end record"]
MEMBER_NAMES = [info.filename for info in INFOS]


def region_span(region: str, member: str) -> tuple[int, int]:
    """[start, end) of ``region`` in the shipped file; deflate data: the first bytes, where the npy header is."""
    m = MEMBER[member]
    return {
        "anywhere": (0, len(SHIPPED)),
        "local header": (LOCAL[m], DATA_START[m]),
        "deflate data": (DATA_START[m], DATA_START[m] + min(48, INFOS[m].compress_size)),
        "central directory": (CENTRAL[m], CENTRAL[m] + 46 + len(member)),
        "end record": (EOCD, len(SHIPPED)),
    }[region]


@st.composite
def zip_byte_recipes(draw) -> list[tuple]:
    """1 to 3 edits (region, member, offset in region, operation, argument) of the shipped file's bytes:
    anywhere, in a local header, at the start of a member's deflate data, in a central-directory
    entry or in the end record."""
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        region = draw(st.sampled_from(ZIP_REGIONS))
        member = draw(st.sampled_from(MEMBER_NAMES))
        lo, hi = region_span(region, member)
        offset = draw(st.integers(0, hi - lo - 1))
        op = draw(st.sampled_from(["flip", "byte", "uint16", "truncate", "insert", "delete"]))
        arg = {
            "flip": st.integers(0, 7),
            "byte": st.integers(0, 255),
            "uint16": st.one_of(st.sampled_from(ZIP_VALUES16), st.integers(0, 0xFFFF)),  # method, flags, ...
            "truncate": st.none(),
            "insert": st.binary(min_size=1, max_size=4),
            "delete": st.integers(1, 4),
        }[op]
        edits.append((region, member, offset, op, draw(arg)))
    return edits


def apply_zip_bytes(edits: list[tuple]) -> bytes:
    data = bytearray(SHIPPED)
    for region, member, offset, op, arg in edits:
        if len(data) < 4:
            break
        pos = min(region_span(region, member)[0] + offset, len(data) - 2)
        if op == "flip":
            data[pos] ^= 1 << arg
        elif op == "byte":
            data[pos] = arg
        elif op == "uint16":
            struct.pack_into("<H", data, pos, arg)
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = arg
        else:
            del data[pos : pos + arg]
    return bytes(data)


@st.composite
def npy_member_recipes(draw) -> tuple[str, list[tuple]]:
    """(member, 1 to 3 edits (operation, position, argument) of its .npy bytes), mostly in its header."""
    name = draw(st.sampled_from(MEMBER_NAMES))
    content = member_content(name)
    header_end = 10 + struct.unpack_from("<H", content, 8)[0]
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, header_end + 8 if draw(st.booleans()) else len(content) - 1))
        op = draw(st.sampled_from(["flip", "printable", "insert", "truncate"]))
        arg = {
            "flip": st.integers(0, 7),
            "printable": st.integers(32, 126),
            "truncate": st.none(),
            "insert": st.sampled_from([b"(", b")", b"[", b"{", b"}", b"'", b"b", b",", b"#", b"9", b"-"]),
        }[op]
        edits.append((op, pos, draw(arg)))
    return name, edits


def apply_npy_member(recipe: tuple[str, list[tuple]]) -> bytes:
    """The shipped zip with the member's .npy bytes edited and the zip rebuilt around them with a
    correct CRC, so the damage reaches numpy's reader instead of zip's checks."""
    name, edits = recipe
    content = bytearray(member_content(name))
    for op, pos, arg in edits:
        if not content and op in ("flip", "printable"):
            continue  # a truncation at 0 left no byte to change
        pos = min(pos, len(content) - 1)
        if op == "flip":
            content[pos] ^= 1 << arg
        elif op == "printable":
            content[pos] = arg
        elif op == "insert":
            content[pos:pos] = arg
        else:
            del content[pos:]
    return rewrite_member(name, bytes(content))


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(
        [
            0,
            1,
            2,
            3,
            10,
            16,
            28,
            64,
            256,
            784,
            65536,
            -1,
            1.5,
            28.0,
            True,
            "int8",
            "float32",
            "dequantized",
            "ReLU",
            "Flatten",
            "MaxPool2D",
            "Dense",
            "Conv2D",
            "Dropout",
            "BatchNorm",
            "he",
        ]
    ),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=8,
)
RAW_JSON = st.one_of(
    st.binary(max_size=32),
    st.sampled_from([b"", b"[" * 100_000, b'{"a":' * 50_000, b"1" * 5000, b"\xff\xfe", b'"\\ud800"', b"NaN", b"{} {}"]),
)


def _containers(obj, path=()):
    """Paths to every dict and list inside a JSON value."""
    if isinstance(obj, (dict, list)):
        yield path
        for key, value in obj.items() if isinstance(obj, dict) else enumerate(obj):
            yield from _containers(value, path + (key,))


@st.composite
def metadata_recipes(draw) -> tuple:
    """(name, path, operation, key, value): one edit of the architecture, card or preprocessing JSON:
    replace it whole or with raw bytes, or set, add or delete one key or item somewhere inside."""
    name = draw(st.sampled_from(META_NAMES))
    roll = draw(st.integers(0, 7))
    if roll == 0:
        return name, (), "raw bytes", None, draw(RAW_JSON)
    if roll == 1:
        return name, (), "replace", None, draw(JSON_VALUES)
    obj = array_json(SHIPPED_ARRAYS[name])
    path = draw(st.sampled_from(list(_containers(obj))))
    node = obj
    for key in path:
        node = node[key]
    op = draw(st.sampled_from(["set", "set", "add", "delete"]))
    if isinstance(node, dict):
        key = draw(st.sampled_from(sorted(node))) if node and op != "add" else draw(st.text(max_size=8))
    else:
        key = draw(st.integers(0, len(node) - (0 if op == "add" else 1))) if node or op == "add" else 0
        op = op if node else "add"
    return name, path, op, key, None if op == "delete" else draw(JSON_VALUES)


def apply_metadata(recipe: tuple) -> bytes:
    name, path, op, key, value = recipe
    arrays = dict(SHIPPED_ARRAYS)
    if op == "raw bytes":
        arrays[name] = np.frombuffer(value, np.uint8)
        return npz_bytes(arrays)
    if op == "replace":
        arrays[name] = json_array(value)
        return npz_bytes(arrays)
    obj = node = array_json(SHIPPED_ARRAYS[name])
    for step in path:
        node = node[step]
    if op == "set" or (op == "add" and isinstance(node, dict)):
        node[key] = value
    elif op == "add":
        node.insert(key, value)
    elif isinstance(node, dict):
        node.pop(key, None)
    else:
        del node[key]
    arrays[name] = json_array(obj)
    return npz_bytes(arrays)


EXTREME_FLOATS = [0.0, -0.0, 1e-45, 1e-40, 1e-30, 1e-8, 1e8, 1e20, 1e30, 3.4e38, -3.4e38, -1e30]


@st.composite
def weight_recipes(draw) -> tuple:
    """(array, operation, argument): one weight array with extreme values, another dtype or shape, or gone."""
    name = draw(st.sampled_from(WEIGHT_NAMES))
    op = draw(st.sampled_from(["one value", "all values", "dtype", "shape", "drop", "rename"]))
    is_int8 = SHIPPED_ARRAYS[name].dtype == np.int8
    arg = {
        "one value": st.tuples(
            st.integers(0, SHIPPED_ARRAYS[name].size - 1),
            st.sampled_from([-128, -127, 127] if is_int8 else EXTREME_FLOATS),
        ),
        "all values": st.sampled_from([-128, -127, 0, 127] if is_int8 else EXTREME_FLOATS),
        "dtype": st.sampled_from(["float64", "float16", "int16", "uint8", "int8", "bool"]),
        "shape": st.sampled_from(["flat", "extra axis", "one fewer"]),
        "drop": st.none(),
        "rename": st.sampled_from(["99.W", "0.extra", "x", "0.W_scale"]),
    }[op]
    return name, op, draw(arg)


def apply_weights(recipe: tuple) -> bytes:
    name, op, arg = recipe
    arrays = dict(SHIPPED_ARRAYS)
    arr = arrays[name].copy()
    if op == "one value":
        arr.reshape(-1)[arg[0]] = arg[1]
    elif op == "all values":
        arr[...] = arg
    elif op == "dtype":
        arr = arr.astype(arg)
    elif op == "shape":
        arr = {"flat": arr.reshape(-1), "extra axis": arr[None], "one fewer": arr.reshape(-1)[:-1]}[arg]
    if op in ("drop", "rename"):
        del arrays[name]
    if op == "rename":
        arrays[arg] = arr
    elif op != "drop":
        arrays[name] = arr
    return npz_bytes(arrays)
