"""Seeded mutants of the shipped model file and of an IDX file, and the child process that loads them.

Mutant ``i`` of a kind is a pure function of (seed, i): ``random.Random(f"{kind}-{seed}-{i}")``
draws one operator and its arguments, so a child can start anywhere in the sequence, a failure
names the operator that made the file, and ``python tests/fuzz_mutants.py show model 0 1234``
writes that very file for a closer look.

The child (``python tests/fuzz_mutants.py run KIND SEED START COUNT MARKER FOLDER``) caps its address
space (RLIMIT_AS), loads each mutant under a per-file alarm and prints one JSON line per mutant:
{"i", "op", "outcome", "detail"} with outcome one of
- "refused": the documented error (engine.ModelFormatError, engine.IdxFormatError);
- "ok": loaded, and (models) predict_proba gives finite probabilities that sum to 1, from
  finite logits, for a blank, a full and a noise image;
- "escape": any other exception from the loader;
- "broken": loaded, but predicting raised or gave NaN, infinities or the wrong shape;
- "hang": the alarm went off.
The parent (tests/test_fuzz.py) counts them and records a child that dies as a "crash".
"""

import gzip
import io
import json
import random
import resource
import signal
import struct
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.architecture import expected_arrays  # noqa: E402
from engine.architectures import cnn_config, mlp_config  # noqa: E402
from engine.idx import write_idx  # noqa: E402
from engine.npz import array_json, json_array  # noqa: E402

SHIPPED_MODEL = ROOT / "models" / "mnist_int8.npz"
MEMORY_CAP = 1536 << 20  # bytes of address space for the child: loading must not need more
ALARM_SECONDS = 10  # per file; a sound load takes milliseconds


# --- the shipped model, taken apart ----------------------------------------------------------------


class Shipped:
    """The shipped model's bytes, members (name -> .npy bytes), arrays and zip layout."""

    def __init__(self, path: Path = SHIPPED_MODEL):
        self.data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(self.data)) as zf:
            self.infos = zf.infolist()
            self.members = {info.filename: zf.read(info.filename) for info in self.infos}
        with np.load(io.BytesIO(self.data), allow_pickle=False) as npz:
            self.arrays = {name: npz[name] for name in npz.files}
        metadata = ("architecture", "preprocessing", "card")  # a model's; an examples file has none
        self.meta = {name: array_json(self.arrays[name]) for name in metadata if name in self.arrays}
        self.weights = sorted(name for name in self.arrays if "." in name)
        eocd = self.data.rindex(b"PK\x05\x06")
        central, pos = [], struct.unpack_from("<I", self.data, eocd + 16)[0]
        for _ in self.infos:
            central.append(pos)
            pos += 46 + sum(struct.unpack_from("<HHH", self.data, pos + 28))
        self.eocd, self.central = eocd, central
        self.local = [info.header_offset for info in self.infos]
        self.data_start = [off + 30 + sum(struct.unpack_from("<HH", self.data, off + 26)) for off in self.local]


def zip_members(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, content in members:
            zf.writestr(name, content)
    return buffer.getvalue()


def npy_bytes(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, arr, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npz_of(arrays: dict[str, np.ndarray]) -> bytes:
    return zip_members([(name + ".npy", npy_bytes(arr)) for name, arr in arrays.items()])


class Payload:
    """Unpickling this creates the marker file: the proof that a loader ran code from a file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


# Values that tend to break parsers and validators: boundaries, wrong types, non-finite numbers.
INTS = [0, 1, 2, 3, 9, 10, 11, 16, 28, 255, 256, 784, 1040, 1041, 65535, 65536, 2**31, 2**63, -1, -(2**31)]
FLOATS = [0.0, -0.0, 1e-45, 1e-30, 1e-8, 0.5, 1.5, 28.0, 1e30, 3.4e38, 1e308, -1.0, -2.0]
JSON_SPECIALS = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]
STRINGS = ["", "abc", "int8", "float32", "dequantized", "Dense", "Conv2D", "ReLU", "Flatten", "MaxPool2D"]
STRINGS += ["BatchNorm", "Dropout", "QuantizedDense", "\u00e9", "x" * 300]
UINT16 = [0, 1, 6, 8, 9, 12, 14, 20, 45, 63, 98, 99, 0x01, 0x08, 0x40, 0x800, 0x2000, 0xFFFF]
UINT32 = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 20, 1 << 30]
EXTREMES = [0.0, -0.0, 1e-45, 1e-38, 1e-31, 1e-30, 1e30, 1e31, 3.4e38, -3.4e38, np.nan, np.inf, -np.inf]
DTYPES = ["float64", "float16", "int8", "uint8", "int16", "int64", "bool", "complex64", "<U2", "V4", "M8[s]"]
DESCRS = ["'<f4'", "'|i1'", "'<f8'", "'|O'", "'<c8'", "'>f4'", "'|b1'", "'<U3'", "'|V4'", "'<M8'", "'x'", "3", "None"]
SHAPES = ["()", "(0,)", "(1,)", "(-1,)", "(2**40,)", "(10, 10)", "(1, 1, 1, 1, 1, 1, 1, 1)", "(1.5,)", "('a',)"]
SHAPES += ["(4294967296, 4294967296)", "(" + "1, " * 40 + ")", "[3]", "(True,)"]


def json_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(INTS)
    if roll < 0.45:
        return rng.choice(FLOATS)
    if roll < 0.6:
        return rng.choice(STRINGS)
    if roll < 0.7:
        return rng.choice([None, True, False])
    if roll < 0.8 or depth > 2:
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        rng.choice(STRINGS + ["type", "kind", "layers"]): json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))
    }


def containers(obj, path=()):
    """Paths of every dict and list inside a JSON value."""
    if isinstance(obj, (dict, list)):
        yield path
        for key, value in obj.items() if isinstance(obj, dict) else enumerate(obj):
            yield from containers(value, path + (key,))


def edit_json(rng: random.Random, obj) -> tuple[object, str]:
    """A deep copy of ``obj`` with one random edit somewhere inside; (new value, description)."""
    obj = json.loads(json.dumps(obj))
    path = rng.choice(list(containers(obj)))
    node = obj
    for key in path:
        node = node[key]
    op = rng.choice(["set", "set", "set", "add", "delete", "duplicate"])
    if isinstance(node, dict):
        key = rng.choice(sorted(node)) if node and op != "add" else rng.choice(STRINGS + ["type", "stride"])
        if op == "delete":
            node.pop(key, None)
        else:
            node[key] = json_value(rng) if op != "duplicate" else node.get(key)
    else:
        index = rng.randrange(len(node)) if node else 0
        if op == "delete" and node:
            del node[index]
        elif op == "duplicate" and node:
            node.insert(index, json.loads(json.dumps(node[index])))
        elif op == "add" or not node:
            node.insert(index, json_value(rng))
        else:
            node[index] = json_value(rng)
    return obj, f"{op} at {list(path)[:4]}"


def random_arrays_for(rng: random.Random, architecture: dict, extreme: float = 0.3) -> dict[str, np.ndarray] | None:
    """Arrays of exactly the names, dtypes and shapes an architecture asks for (None if it is invalid
    or asks for much), with values from plausible to extreme: the file then passes the structural
    checks and the model itself is tested."""
    try:
        expected = expected_arrays(architecture)
    except ValueError:
        return None
    if sum(int(np.prod(shape, dtype=np.int64)) for _, shape in expected.values()) > 2_000_000:
        return None
    gen = np.random.default_rng(rng.randrange(2**32))
    extreme = rng.random() < extreme
    out = {}
    for name, (dtype, shape) in expected.items():
        if dtype == "int8":
            out[name] = gen.integers(-127, 128, shape, dtype=np.int8)
        elif name.endswith("_scale"):
            out[name] = gen.uniform(1e-3, 1e-1, shape).astype(np.float32)
        else:
            out[name] = gen.normal(0, 0.1, shape).astype(np.float32)
        if name.endswith("running_var"):
            out[name] = np.abs(out[name]) + np.float32(0.5)
        if extreme and out[name].size and rng.random() < 0.3:
            value = rng.choice([-128, 127] if dtype == "int8" else EXTREMES)
            out[name].reshape(-1)[gen.integers(0, out[name].size)] = value
    return out


# --- model mutation operators: each (rng, shipped) -> (description, file bytes) ----------------------


def op_flip_bits(rng, s):
    data = bytearray(s.data)
    spots = [rng.randrange(len(data)) for _ in range(rng.randint(1, 4))]
    for pos in spots:
        data[pos] ^= 1 << rng.randrange(8)
    return f"flip bits at {spots}", bytes(data)


def op_zip_field(rng, s):
    """A field of a local header, a central-directory entry or the end record set to an odd value."""
    data = bytearray(s.data)
    m = rng.randrange(len(s.infos))
    where, fields = rng.choice(
        [
            (s.local[m], {4: "H", 6: "H", 8: "H", 14: "I", 18: "I", 22: "I", 26: "H", 28: "H"}),
            (s.central[m], {4: "H", 6: "H", 8: "H", 10: "H", 16: "I", 20: "I", 24: "I", 28: "H", 30: "H", 32: "H"}),
            (s.central[m], {34: "H", 36: "H", 38: "I", 42: "I"}),
            (s.eocd, {4: "H", 6: "H", 8: "H", 10: "H", 12: "I", 16: "I", 20: "H"}),
        ]
    )
    offset, fmt = rng.choice(sorted(fields.items()))
    old = struct.unpack_from("<" + fmt, data, where + offset)[0]
    values = UINT16 if fmt == "H" else UINT32
    value = rng.choice(values + [old + 1, max(old - 1, 0), old ^ (1 << rng.randrange(16))]) & (
        0xFFFF if fmt == "H" else 0xFFFFFFFF
    )
    struct.pack_into("<" + fmt, data, where + offset, value)
    return f"zip field +{offset} of {s.infos[m].filename} area @{where}: {old} -> {value}", bytes(data)


def op_deflate_bytes(rng, s):
    """Damage at the start of a member's deflate stream (block type, Huffman tables)."""
    data = bytearray(s.data)
    m = rng.randrange(len(s.infos))
    pos = s.data_start[m] + rng.randrange(min(16, s.infos[m].compress_size))
    data[pos] = rng.choice([0x00, 0x07, 0xFF, 0x06, rng.randrange(256)])
    return f"deflate byte {pos} of {s.infos[m].filename}", bytes(data)


def op_truncate(rng, s):
    cut = rng.choice([rng.randrange(len(s.data)), rng.randrange(30), len(s.data) - rng.randint(1, 40)])
    cut = rng.choice([cut, *s.local, *s.central, s.eocd]) if rng.random() < 0.3 else cut
    return f"truncate at {cut}", s.data[:cut]


def op_splice(rng, s):
    data = bytearray(s.data)
    pos = rng.randrange(len(data))
    if rng.random() < 0.5:
        data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        return f"insert at {pos}", bytes(data)
    del data[pos : pos + rng.randint(1, 64)]
    return f"delete at {pos}", bytes(data)


def op_wrap(rng, s):
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    choice = rng.randrange(4)
    if choice == 0:
        return "append junk", s.data + junk
    if choice == 1:
        return "prepend junk", junk + s.data
    if choice == 2:
        return "two copies", s.data + s.data
    return "pure junk", junk * rng.randint(1, 50)


def rebuilt(s, replace: dict[str, bytes | None], extra: list[tuple[str, bytes]] = (), method=zipfile.ZIP_DEFLATED):
    members = [(name, replace.get(name, content)) for name, content in s.members.items()]
    return zip_members([(n, c) for n, c in members if c is not None] + list(extra), method)


def op_npy_header(rng, s):
    """A member's npy header rewritten: other dtype, shape, order, or unparseable text."""
    name = rng.choice(list(s.members))
    content = s.members[name]
    header_len = struct.unpack_from("<H", content, 8)[0]
    header = content[10 : 10 + header_len].decode("latin-1")
    body = content[10 + header_len :]
    kind = rng.randrange(5)
    if kind == 0:
        new = header.replace(header[header.index("'descr'") : header.index(",", header.index("'descr'"))],
                             f"'descr': {rng.choice(DESCRS)}")  # fmt: skip
    elif kind == 1:
        start = header.index("'shape'")
        end = header.index(")", start) + 1
        new = header[:start] + f"'shape': {rng.choice(SHAPES)}" + header[end:]
    elif kind == 2:
        new = header.replace("False", rng.choice(["True", "1", "'no'", "None"]))
    elif kind == 3:
        pos = rng.randrange(len(header))
        new = (
            header[:pos]
            + rng.choice(["(", ")", "[", "{", "}", "'", ",", "#", "\\", "9" * 30, "[" * 500])
            + header[pos:]
        )
    else:
        new = rng.choice(["", "{", "{}", "garbage", "{'descr': '<f4'}", "(" * 10000, "{'a': " * 300 + "1"])
    new_bytes = new.encode("latin-1", "replace")
    version = content[6:8] if rng.random() < 0.9 else bytes([rng.choice([0, 2, 3, 255]), 0])
    length = struct.pack("<H", len(new_bytes)) if rng.random() < 0.9 else struct.pack("<H", rng.choice(UINT16))
    if version[0] == 2:
        length = struct.pack("<I", len(new_bytes))
    return f"npy header of {name} (kind {kind})", rebuilt(s, {name: content[:6] + version + length + new_bytes + body})


def op_npy_body(rng, s):
    name = rng.choice(list(s.members))
    content = s.members[name]
    if rng.random() < 0.5:
        cut = rng.randrange(len(content))
        return f"{name} cut at {cut}", rebuilt(s, {name: content[:cut]})
    extra = b"\0" * rng.choice([1, 7, 1000, (1 << 20) + 8192, 90 << 20])  # the last: a zip bomb
    return f"{name} + {len(extra)} bytes", rebuilt(s, {name: content + extra})


def op_metadata(rng, s):
    name = rng.choice(["architecture", "architecture", "preprocessing", "card"])
    roll = rng.random()
    arrays = dict(s.arrays)
    if roll < 0.15:
        raw = rng.choice(
            [
                b"",
                b"[" * 100_000 + b"]" * 100_000,
                b'{"a":' * 50_000,
                b"\xff\xfe",
                b"NaN",
                b"{} {}",
                b'"x"',
                b"[]",
                b"3",
                b"null",
                b'{"kind": "int8"',
                b"x" * (2 << 20),
            ]  # fmt: skip
        )
        arrays[name] = np.frombuffer(raw, np.uint8)
        return f"{name} raw {raw[:20]!r}", npz_of(arrays)
    if roll < 0.25:
        text = json.dumps(s.meta[name])
        number = rng.choice(JSON_SPECIALS)
        digits = [i for i, ch in enumerate(text) if ch.isdigit()]
        pos = rng.choice(digits) if digits else 0
        text = text[:pos] + number + text[pos + 1 :]
        arrays[name] = np.frombuffer(text.encode(), np.uint8)
        return f"{name} number -> {number}", npz_of(arrays)
    value, where = edit_json(rng, s.meta[name])
    arrays[name] = json_array(value)
    if name == "architecture" and rng.random() < 0.5:  # arrays that fit the edited architecture
        fitted = random_arrays_for(rng, value)
        if fitted is not None:
            arrays = {k: v for k, v in arrays.items() if "." not in k} | fitted
            return f"architecture {where}, arrays fitted", npz_of(arrays)
    return f"{name} {where}", npz_of(arrays)


def op_weights(rng, s):
    name = rng.choice(s.weights)
    arrays = dict(s.arrays)
    arr = arrays[name].copy()
    op = rng.choice(["one value", "all values", "dtype", "shape", "drop", "rename", "extra"])
    if op == "one value":
        arr.reshape(-1)[rng.randrange(arr.size)] = (
            rng.choice([-128, 127, 0]) if arr.dtype == np.int8 else rng.choice(EXTREMES)
        )
    elif op == "all values":
        arr[...] = rng.choice([-128, -127, 127, 0]) if arr.dtype == np.int8 else rng.choice(EXTREMES)
    elif op == "dtype":
        dtype = rng.choice(DTYPES)
        with np.errstate(all="ignore"):
            try:
                arr = arr.astype(dtype)
            except (TypeError, ValueError):
                arr = arr.astype("float64")
    elif op == "shape":
        arr = rng.choice([arr.reshape(-1), arr[None], arr.reshape(-1)[:-1], arr.T, np.zeros((0,), arr.dtype)])
    if op in ("drop", "rename"):
        del arrays[name]
    if op == "rename":
        arrays[rng.choice(["99.W", "0.extra", "x", "0.W_scale", "architecture2", "-1.W", "0.W.npy"])] = arr
    elif op == "extra":
        arrays[rng.choice(["extra", "15.W", "0.W2"])] = arr
    elif op != "drop":
        arrays[name] = arr
    return f"weight {name}: {op}", npz_of(arrays)


def op_format_version(rng, s):
    arrays = dict(s.arrays)
    arrays["format_version"] = rng.choice(
        [np.array(2), np.array(1.0), np.array([1]), np.array(1, np.int8), np.array(True), np.array(0), np.zeros((0,))]
    )
    return f"format_version {arrays['format_version']!r}", npz_of(arrays)


def op_zip_structure(rng, s, marker: str):
    kind = rng.randrange(8)
    name = rng.choice(list(s.members))
    if kind == 0:
        return "duplicate member", rebuilt(s, {}, [(name, s.members[name])])
    if kind == 1:
        return "directory entry", rebuilt(s, {}, [("dir/", b"")])
    if kind == 2:
        return "non-npy entry", rebuilt(s, {}, [(rng.choice(["README", "../x.npy.txt", "a.pkl"]), b"hello")])
    if kind == 3:
        method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
        return f"members compressed with method {method}", rebuilt(s, {}, method=method)
    if kind == 4:
        payload = np.array([Payload(marker)], dtype=object)
        return f"pickle in {name}", rebuilt(s, {name: npy_bytes(payload, allow_pickle=True)})
    if kind == 5:
        return "empty zip", zip_members([])
    if kind == 6:
        return f"only {name}", zip_members([(name, s.members[name])])
    return f"{name} removed", rebuilt(s, {name: None})


def op_bomb(rng, s):
    """Architectures that are cheap to store and costly to run, with arrays that fit them."""
    kind = rng.randrange(5)
    if kind == 0:  # the activation bomb
        layers = [
            {"type": "Conv2D", "in_channels": 1, "out_channels": 1, "kernel": 1, "stride": 1, "padding": 65536},
            {"type": "MaxPool2D", "size": 65536},
            {"type": "Flatten"},
            {"type": "Dense", "in_features": 4, "out_features": 10},
        ]
        shape = [28, 28, 1]
    elif kind == 1:  # wide everything
        width = rng.choice([1024, 4096, 65536])
        layers = [{"type": "Dense", "in_features": 784, "out_features": width}, {"type": "ReLU"}]
        layers += [{"type": "Dense", "in_features": width, "out_features": 10}]
        shape = [784]
    elif kind == 2:  # deep
        layers = [{"type": "Dense", "in_features": 784, "out_features": 10}]
        layers += [{"type": "Dense", "in_features": 10, "out_features": 10}] * rng.choice([10, 62, 63, 64, 1000])
        shape = [784]
    elif kind == 3:  # many channels, small kernel
        channels = rng.choice([64, 512, 4096])
        layers = [
            {"type": "Conv2D", "in_channels": 1, "out_channels": channels, "kernel": 3, "stride": 1, "padding": 1},
            {
                "type": "Conv2D",
                "in_channels": channels,
                "out_channels": channels,
                "kernel": 3,
                "stride": 1,
                "padding": 1,
            },
            {"type": "Flatten"},
            {"type": "Dense", "in_features": 784 * channels, "out_features": 10},
        ]
        shape = [28, 28, 1]
    else:  # int8 Dense layers on 784 to 3136 inputs: over 1040, int32 sums of int8 products may overflow
        channels = rng.choice([1, 2, 4])
        layers = [
            {"type": "Conv2D", "in_channels": 1, "out_channels": channels, "kernel": 1, "stride": 1, "padding": 0},
            {"type": "Flatten"},
            {"type": "Dense", "in_features": 784 * channels, "out_features": 10},
        ]
        shape = [28, 28, 1]
    arch = {"kind": "float32" if kind != 4 else "int8", "input_shape": shape, "layers": layers}
    if kind == 4:
        arch |= {"inference": "int8", "calibration": "max"}
    arrays = {k: v for k, v in s.arrays.items() if "." not in k}
    arrays["architecture"] = json_array(arch)
    fitted = random_arrays_for(rng, arch)
    arrays.update(fitted or {"0.W": np.zeros((4, 10), np.float32), "0.b": np.zeros(10, np.float32)})
    return f"bomb {kind}", npz_of(arrays)


def op_float_model(rng, s):
    """The engine's own float32 architectures (the shipped file is int8), as built or with one edit,
    with arrays that fit, often holding an extreme value or two."""
    build = rng.choice([mlp_config, cnn_config])
    arch = {"kind": "float32", **build()}
    where = "as built"
    if rng.random() < 0.5:
        arch, where = edit_json(rng, arch)
    arrays = {k: v for k, v in s.arrays.items() if "." not in k}
    arrays["architecture"] = json_array(arch)
    arrays.update(random_arrays_for(rng, arch, extreme=0.6) or {})
    stored = zip_members([(name + ".npy", npy_bytes(arr)) for name, arr in arrays.items()], zipfile.ZIP_STORED)
    return f"{build.__name__} {where}", stored


MODEL_OPERATORS = [  # (weight, operator)
    (3, op_flip_bits),
    (3, op_zip_field),
    (1, op_deflate_bytes),
    (2, op_truncate),
    (1, op_splice),
    (1, op_wrap),
    (3, op_npy_header),
    (1, op_npy_body),
    (5, op_metadata),
    (4, op_weights),
    (1, op_format_version),
    (2, op_zip_structure),
    (1, op_bomb),
    (3, op_float_model),
]


def weighted_mutant(kind: str, operators, seed: int, i: int, base: Shipped, marker: str) -> tuple[str, bytes]:
    """Mutant ``i`` of ``base``: one operator drawn by weight, from a generator seeded by (kind, seed, i)."""
    rng = random.Random(f"{kind}-{seed}-{i}")
    op = rng.choices([op for _, op in operators], weights=[w for w, _ in operators])[0]
    description, data = op(rng, base, marker) if op is op_zip_structure else op(rng, base)
    return f"{op.__name__[3:]}: {description}", data


def model_mutant(seed: int, i: int, shipped: Shipped, marker: str) -> tuple[str, bytes]:
    return weighted_mutant("model", MODEL_OPERATORS, seed, i, shipped, marker)


# --- IDX mutants --------------------------------------------------------------------------------------


def idx_bases(folder: Path) -> dict[str, bytes]:
    """IDX files written by engine.write_idx: images, labels and floats, raw and gzip."""
    gen = np.random.default_rng(0)
    arrays = {
        "images": gen.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "labels": gen.integers(0, 10, 20, dtype=np.uint8),
        "floats": gen.normal(size=(5, 3)).astype(np.float32),
        "int16": gen.integers(-300, 300, (4, 2, 3), dtype=np.int16),
    }
    bases = {}
    for name, arr in arrays.items():
        for compress in (False, True):
            path = folder / f"{name}{'.gz' if compress else ''}"
            write_idx(path, arr, compress=compress)
            bases[path.name] = path.read_bytes()
    return bases


_BOMBS: dict[tuple, bytes] = {}


def gzip_bomb(declared: int, present: int) -> bytes:
    """A gzip IDX whose header declares ``declared`` bytes of uint8 and which holds ``present`` of them."""
    key = (declared, present)
    if key not in _BOMBS:
        header = bytes([0, 0, 0x08, 1]) + struct.pack(">I", declared)
        _BOMBS[key] = gzip.compress(header + b"\0" * present, compresslevel=1, mtime=0)
    return _BOMBS[key]


def idx_mutant(seed: int, i: int, bases: dict[str, bytes]) -> tuple[str, bytes]:
    rng = random.Random(f"idx-{seed}-{i}")
    name = rng.choice(sorted(bases))
    data = bytearray(bases[name])
    gz = name.endswith(".gz")
    raw = bytearray(gzip.decompress(bytes(data))) if gz else bytearray(data)
    op = rng.choice(["flip", "header", "dims", "truncate", "extend", "gzip", "bomb", "header", "dims"])
    if op == "flip":
        spots = [rng.randrange(len(data)) for _ in range(rng.randint(1, 3))]
        for pos in spots:
            data[pos] ^= 1 << rng.randrange(8)
        return f"{name} flip {spots}", bytes(data)
    if op in ("header", "dims", "truncate", "extend"):
        ndim = raw[3]
        if op == "header":
            pos = rng.randrange(4)
            raw[pos] = rng.choice([0, 1, 3, 4, 5, 8, 9, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x7F, 0xFF, rng.randrange(256)])
            what = f"header byte {pos} = {raw[pos]}"
        elif op == "dims":
            d = rng.randrange(max(ndim, 1))
            value = rng.choice(UINT32 + [0, 1, 2, 27, 29, 784, 60000, 2**31 - 1, 2**32 - 1])
            struct.pack_into(">I", raw, 4 + 4 * d, value)
            what = f"dimension {d} = {value}"
        elif op == "truncate":
            cut = rng.choice([rng.randrange(len(raw)), rng.randrange(12), len(raw) - 1])
            del raw[cut:]
            what = f"truncate at {cut}"
        else:
            raw += bytes(rng.randint(1, 100))
            what = "extra bytes"
        out = gzip.compress(bytes(raw), mtime=0) if gz and rng.random() < 0.8 else bytes(raw)
        return f"{name} {what}", out
    if op == "gzip":
        data = bytearray(gzip.compress(bytes(raw), mtime=0))
        kind = rng.randrange(5)
        if kind == 0:
            data[3] = rng.choice([0x02, 0x04, 0x08, 0x10, 0xE0, 0xFF])  # FHCRC, FEXTRA, FNAME, FCOMMENT, reserved
        elif kind == 1:
            data[-8:] = bytes(rng.randrange(256) for _ in range(8))  # CRC and size
        elif kind == 2:
            del data[rng.randrange(10, len(data)) :]
        elif kind == 3:
            data += gzip.compress(b"\0\0\x08\x01\0\0\0\x01x", mtime=0)  # a second member
        else:
            data[2] = rng.choice([0, 7, 9, 255])  # compression method
        return f"{name} gzip edit {kind}", bytes(data)
    declared = rng.choice([1 << 20, 64 << 20, (1 << 31) - 8, 1 << 31])
    present = min(declared, rng.choice([0, 100, 1 << 20, 64 << 20]))
    return f"gzip bomb declaring {declared}, holding {present}", gzip_bomb(declared, present)


# --- examples-file mutants (engine.load_examples: the page's Export, train_offline.py --extra) ----------


def examples_base(folder: Path) -> Shipped:
    """An examples file written by engine.save_examples: 12 examples of every digit."""
    from engine import save_examples

    gen = np.random.default_rng(0)
    path = folder / "examples-base.npz"
    save_examples(path, gen.integers(0, 256, (12, 28, 28), dtype=np.uint8), np.arange(12) % 10)
    return Shipped(path)


def op_examples_arrays(rng, s):
    """The arrays themselves replaced: labels out of range or of the wrong kind, images of the wrong shape or type,
    another format number, mismatched lengths, none at all, or very many."""
    arrays = dict(s.arrays)
    n = len(arrays["labels"])
    kind = rng.randrange(9)
    if kind == 0:
        arrays["labels"] = np.array([rng.choice([-1, 10, 11, 255, 2**31 - 1, -(2**31)])] * n, np.int64)
    elif kind == 1:
        arrays["labels"] = np.full(n, rng.choice([np.nan, np.inf, 3.5, 1.0]), rng.choice(["float32", "float64"]))
    elif kind == 2:
        arrays["labels"] = rng.choice([np.zeros(n, bool), np.zeros((n, 1), np.int64), np.array(["1"] * n)])
    elif kind == 3:
        shape = rng.choice([(n, 28), (n, 27, 28), (n, 28, 28, 1), (n, 2, 2), (28, 28)])
        arrays["images"] = np.zeros(shape, np.uint8)
    elif kind == 4:
        arrays["images"] = arrays["images"].astype(rng.choice(["float32", "float64", "int16", "bool", "complex64"]))
    elif kind == 5:
        arrays["examples_format"] = rng.choice(
            [np.array(2), np.array(0), np.array([1]), np.array(1.0), np.array("1"), np.array(True)]
        )
    elif kind == 6:
        arrays["labels"] = arrays["labels"][: rng.randrange(n)]
    elif kind == 7:
        arrays["images"], arrays["labels"] = np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    else:
        many = rng.choice([1000, 100_001])
        arrays["images"] = np.zeros((many, 28, 28), np.uint8)
        arrays["labels"] = np.zeros(many, np.int64)
    return f"arrays edit {kind}", npz_of(arrays)


EXAMPLES_OPERATORS = [  # (weight, operator): the generic zip and npy damage, and edits of the arrays
    (3, op_flip_bits),
    (3, op_zip_field),
    (1, op_deflate_bytes),
    (2, op_truncate),
    (1, op_splice),
    (1, op_wrap),
    (3, op_npy_header),
    (1, op_npy_body),
    (2, op_zip_structure),
    (5, op_examples_arrays),
]


def examples_mutant(seed: int, i: int, base: Shipped, marker: str) -> tuple[str, bytes]:
    return weighted_mutant("examples", EXAMPLES_OPERATORS, seed, i, base, marker)


# --- the child ---------------------------------------------------------------------------------------


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


PROBES = np.stack(
    [
        np.zeros((28, 28), np.uint8),
        np.full((28, 28), 255, np.uint8),
        np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8),
    ]
)


def load_and_classify(kind: str, path: Path) -> tuple[str, str]:
    import engine

    documented = engine.IdxFormatError if kind == "idx" else engine.ModelFormatError
    try:
        if kind == "model":
            model = engine.load_model(path)
        elif kind == "examples":
            images, labels = engine.load_examples(path)
        else:
            arr = engine.read_idx(path)
    except Hang:
        return "hang", ""
    except documented as exc:
        return "refused", str(exc)[:200]
    except BaseException as exc:  # anything else is what the fuzz looks for
        return "escape", f"{type(exc).__name__}: {str(exc)[:200]}"
    if kind == "idx":
        return ("ok", str(arr.shape)) if isinstance(arr, np.ndarray) else ("broken", type(arr).__name__)
    if kind == "examples":  # what --extra and the page's Import rely on
        sound = (
            images.dtype == np.uint8
            and images.ndim == 3
            and images.shape[1:] == (28, 28)
            and labels.dtype == np.int64
            and labels.shape == (len(images),)
            and 0 < len(labels)
            and labels.min() >= 0
            and labels.max() <= 9
        )
        return (
            ("ok", str(images.shape))
            if sound
            else ("broken", f"{images.dtype}{images.shape} {labels.dtype}{labels.shape}")
        )
    try:
        with np.errstate(all="ignore"):  # what counts is what comes out
            probs = model.predict_proba(PROBES)
            # predict_proba turns NaN logits into numbers; the logits themselves must be finite too.
            logits = model.logits((PROBES / np.float32(255)).reshape((-1, *model.input_shape)))
    except Hang:
        return "hang", "in predict_proba"
    except BaseException as exc:
        return "broken", f"predict_proba: {type(exc).__name__}: {str(exc)[:200]}"
    if probs.shape != (3, 10) or not np.all(np.isfinite(probs)) or not np.allclose(probs.sum(axis=1), 1, atol=1e-3):
        return "broken", f"probabilities {probs.shape} {probs.ravel()[:5]}"
    if not np.all(np.isfinite(logits)):
        return "broken", f"logits {logits.ravel()[:5]}"
    return "ok", ""


def run(kind: str, seed: int, start: int, count: int, marker: str, folder: Path) -> None:
    """Load mutants start..count-1 of ``kind`` (written one at a time into ``folder``), printing one JSON line each."""
    folder.mkdir(parents=True, exist_ok=True)
    shipped = Shipped() if kind == "model" else examples_base(folder) if kind == "examples" else None
    bases = idx_bases(folder) if kind == "idx" else None
    import engine  # noqa: F401 - imported before the cap, like any program that loads a file

    warnings.simplefilter("ignore")  # zipfile's "Duplicate name" while building mutants, NumPy's overflows
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    signal.signal(signal.SIGALRM, _alarm)
    path = folder / ("mutant.idx" if kind == "idx" else "mutant.npz")
    for i in range(start, count):
        if kind == "model":
            description, data = model_mutant(seed, i, shipped, marker)
        elif kind == "examples":
            description, data = examples_mutant(seed, i, shipped, marker)
        else:
            description, data = idx_mutant(seed, i, bases)
        path.write_bytes(data)
        began = time.perf_counter()
        signal.alarm(ALARM_SECONDS)
        try:
            outcome, detail = load_and_classify(kind, path)
        except Hang:
            outcome, detail = "hang", "outside the loader"
        finally:
            signal.alarm(0)
        seconds = time.perf_counter() - began
        print(json.dumps({"i": i, "op": description, "outcome": outcome, "detail": detail, "s": seconds}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], Path(sys.argv[7]))
    elif sys.argv[1] == "show":  # show KIND SEED I: write mutant I to ./mutant.<kind> and describe it
        kind, seed, i = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        if kind == "model":
            description, data = model_mutant(seed, i, Shipped(), "pwned")
        elif kind == "examples":
            import tempfile

            with tempfile.TemporaryDirectory() as base_folder:
                description, data = examples_mutant(seed, i, examples_base(Path(base_folder)), "pwned")
        else:
            import tempfile

            with tempfile.TemporaryDirectory() as bases_folder:
                description, data = idx_mutant(seed, i, idx_bases(Path(bases_folder)))
        Path(f"mutant.{kind}").write_bytes(data)
        print(description)
