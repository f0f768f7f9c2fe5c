"""Model files: one self-describing .npz, validated completely before it is trusted.

Contents (every entry a plain array; read with ``allow_pickle=False`` only):
- ``format_version``  int64 scalar, currently 1
- ``architecture``    uint8 JSON: {"kind": "float32" | "int8", "input_shape": [...], "layers": [...]}
- ``preprocessing``   uint8 JSON: how inputs must be prepared (engine.preprocess settings)
- ``card``            uint8 JSON: the model card (data checksum, accuracy, date, command ...)
- ``<i>.<name>``      layer i's arrays: float32 weights, or int8 weights with float32 scales

``load_model`` checks the zip directory and each array's npy header (dtype,
shape) against what the architecture implies before reading any data, so a
pickle, an object array, a truncated file or a huge declared shape is refused
without running code or allocating memory. Training checkpoints (``train.py``) are read
with the same functions (``read_npz_arrays`` inside ``npz_errors``, ``json_object``,
``check_outputs_finite``), so they are held to the same rules.
"""

import json
import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .architecture import MAX_PARAMETERS, expected_arrays
from .errors import ModelFormatError, describe
from .initializers import WEIGHTS_COME_LATER
from .model import Sequential
from .npz import array_json, json_array, write_npz_atomic

FORMAT_VERSION = 1
META_ARRAYS = ("format_version", "architecture", "preprocessing", "card")
MAX_META_BYTES = 1 << 20  # JSON blobs: 1 MiB is generous
MAX_FILE_BYTES = 200 << 20
# Scales whose inverse and whose products with int8 accumulators stay finite in float32.
SCALE_RANGE = (1e-30, 1e30)
# A model holds ~40 arrays, a training checkpoint ~130, an examples file 3: a zip directory of a
# million entries takes zipfile seconds and hundreds of MB to parse, so it is counted first.
MAX_ENTRIES = 1024
MAX_DIRECTORY_BYTES = 1 << 20
# How NumPy writes .npz files: stored or deflated. bzip2 and LZMA entries are refused unread:
# zipfile inflates a bzip2 block whole, so a 100 kB entry could expand to gigabytes.
COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}
_END_RECORD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"


def _check_zip_directory(path: Path, what: str) -> None:
    """ModelFormatError if the zip's end record declares more entries or directory bytes than a
    ``what`` can hold, or is a ZIP64 one (which ours never need), before zipfile parses the directory.
    Without an end record zipfile raises BadZipFile itself (turned into a message by npz_errors)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - (22 + 0xFFFF)))  # the end record: 22 bytes and a comment of at most 64 kB
        tail = f.read()
    at = tail.rfind(_END_RECORD)
    if at < 0 or len(tail) - at < 22:
        return
    on_disk, total, directory_bytes = struct.unpack("<HHI", tail[at + 8 : at + 16])
    if at >= 20 and tail[at - 20 : at - 16] == _ZIP64_LOCATOR:
        raise ModelFormatError(f"{path}: a ZIP64 archive; a {what} is a small plain zip")
    entries = max(on_disk, total)
    if entries > MAX_ENTRIES or directory_bytes > MAX_DIRECTORY_BYTES:
        raise ModelFormatError(
            f"{path}: the zip directory declares {entries} entries in {directory_bytes} bytes; "
            f"a {what} has at most {MAX_ENTRIES} entries in {MAX_DIRECTORY_BYTES} bytes"
        )


def _read_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path):
    """(dtype, shape, fortran_order) from an .npy member's header, without reading its data."""
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(
                version
            )
            if reader is None:
                raise ValueError(f"npy version {version}")
            shape, fortran, dtype = reader(f)
            if not all(type(d) is int for d in shape):  # NumPy lets (True,) through, then cannot reshape to it
                raise ValueError(f"shape {shape!r:.60} is not made of whole numbers")
            return shape, fortran, dtype
        # NumPy parses the header's Python literal (ast.literal_eval): damage shows up as ValueError,
        # SyntaxError, TypeError, tokenize.TokenError, IndexError (a tuple descr), MemoryError or
        # RecursionError (thousands of unary minus signs), ...: whichever it is, the header is bad.
        except Exception as exc:
            raise ModelFormatError(f"{path}: array {info.filename!r} has a bad header ({describe(exc):.200})") from None


def read_npz_arrays(
    path: Path,
    expected: dict[str, tuple[str, tuple]] | None,
    meta: tuple[str, ...] = META_ARRAYS,
    what: str = "model file",
) -> dict[str, np.ndarray]:
    """Arrays of the .npz at ``path``: the ``meta`` ones (uint8 JSON and small scalars, at most
    MAX_META_BYTES each), and if ``expected`` is given, every array it names, whose dtype and
    shape must match it; any other array is refused. Without ``expected`` only ``meta`` is read.

    Call it inside ``npz_errors(path)``, which turns zip and npy damage into ModelFormatError.
    """
    out = {}
    _check_zip_directory(path, what)
    with zipfile.ZipFile(path) as zf:
        for entry in zf.infolist():
            if entry.compress_type not in COMPRESSIONS:
                method = METHOD_NAMES.get(entry.compress_type, f"method {entry.compress_type}")
                raise ModelFormatError(
                    f"{path}: zip entry {entry.filename!r} is compressed with {method}; a {what} is stored or deflated"
                )
        names = [info.filename for info in zf.infolist()]
        if len(set(names)) != len(names):  # zipfile would take the last: two readers could see different weights
            twice = next(n for n in names if names.count(n) > 1)
            raise ModelFormatError(
                f"{path}: zip entry {twice!r} appears more than once; a {what} names each array once"
            )
        members = {info.filename[:-4]: info for info in zf.infolist() if info.filename.endswith(".npy")}
        odd = [info.filename for info in zf.infolist() if not info.filename.endswith(".npy")]
        if odd:
            raise ModelFormatError(f"{path}: unexpected entry {odd[0]!r}; a {what} holds only .npy arrays")
        wanted: dict[str, tuple[str, tuple] | None] = {name: None for name in meta}
        if expected is not None:
            unexpected = sorted(set(members) - set(expected) - set(meta))
            if unexpected:
                where = "the architecture" if what == "model file" else _a(what)
                raise ModelFormatError(f"{path}: unexpected array {unexpected[0]!r}, not in {where}")
            wanted.update(expected)
        for name, spec in wanted.items():
            info = members.get(name)
            if info is None:
                raise ModelFormatError(f"{path}: missing array {name!r}")
            limit = MAX_META_BYTES if name in meta else MAX_PARAMETERS * 4
            # The npy header sits in front of the data: at most a few kB on top of the array.
            if info.file_size > limit + 4096:
                raise ModelFormatError(
                    f"{path}: zip entry {info.filename!r} is {info.file_size} bytes uncompressed, "
                    f"over the {limit + 4096} limit for it"
                )
            shape, fortran, dtype = _read_header(zf, info, path)
            if dtype.hasobject or dtype.kind not in "biuf":
                raise ModelFormatError(f"{path}: array {name!r} has dtype {dtype}; only plain numbers are allowed")
            if spec is not None and (str(dtype) != spec[0] or tuple(shape) != tuple(spec[1])):
                needs = "the architecture needs" if what == "model file" else f"{_a(what)} needs"
                raise ModelFormatError(
                    f"{path}: array {name!r} is {dtype}{tuple(shape)}, {needs} {spec[0]}{tuple(spec[1])}"
                )
            nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if nbytes > limit:
                raise ModelFormatError(f"{path}: array {name!r} declares {nbytes} bytes, over the {limit} limit")
            with zf.open(info) as f:
                arr = np.lib.format.read_array(f, allow_pickle=False)
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
                raise ModelFormatError(f"{path}: array {name!r} contains NaN or infinite values")
            out[name] = arr
    return out


def _a(what: str) -> str:
    """ "a checkpoint", "an examples file"."""
    return f"{'an' if what[:1] in 'aeiou' else 'a'} {what}"


@contextmanager
def npz_errors(path: Path) -> Iterator[None]:
    """Every way a damaged .npz shows up while it is read, as one ModelFormatError naming ``path``."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise ModelFormatError(f"{path}: not a valid .npz (zip) file ({exc}); it may be truncated or damaged") from None
    except (NotImplementedError, RuntimeError) as exc:  # zipfile: other compressions, encryption, odd flags
        raise ModelFormatError(f"{path}: a zip entry is stored in a way model files never are ({exc})") from None
    except (OSError, EOFError) as exc:
        raise ModelFormatError(f"{path}: cannot read ({type(exc).__name__}: {exc}); the file is damaged") from None
    except ModelFormatError as exc:
        if str(path) in str(exc):
            raise
        raise ModelFormatError(f"{path}: {exc}") from None  # architecture errors, named with the file
    except ValueError as exc:
        raise ModelFormatError(f"{path}: damaged array data ({exc})") from None


def json_object(path: Path, name: str, arr: np.ndarray) -> dict:
    """The JSON object stored as uint8 bytes in array ``name``; ModelFormatError if it is anything else."""
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise ModelFormatError(f"{path}: {name} must be uint8 JSON bytes")
    try:
        obj = array_json(arr)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"{path}: {name} is not valid JSON ({exc})") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise ModelFormatError(f"{path}: {name} holds a number JSON cannot read ({str(exc)[:80]})") from None
    except RecursionError:
        raise ModelFormatError(f"{path}: {name} is JSON nested too deeply to be a model's") from None
    if not isinstance(obj, dict):
        raise ModelFormatError(f"{path}: {name} must be a JSON object, got {type(obj).__name__}")
    return obj


def check_file_size(path: Path, limit: int = MAX_FILE_BYTES, what: str = "model file") -> None:
    """ModelFormatError unless ``path`` is a file of at most ``limit`` bytes."""
    try:
        is_file = path.is_file()
        size = path.stat().st_size if is_file else 0
    except OSError as exc:  # a name too long, a loop of symlinks, no permission to look
        raise ModelFormatError(f"{path}: cannot open it as a {what} ({exc.strerror or exc})") from None
    if not is_file:
        if os.path.lexists(path):  # a folder, a device, a pipe, a symlink loop: there, but not a file
            raise ModelFormatError(f"{path}: not a regular file, so not a {what}")
        raise ModelFormatError(f"{path}: no such {what}")
    if size > limit:
        raise ModelFormatError(f"{path}: {size} bytes is too large for a {what}")


def read_model_file(path) -> tuple[dict, dict[str, np.ndarray]]:
    """(metadata {architecture, preprocessing, card}, weight arrays), fully validated."""
    path = Path(path)
    check_file_size(path)
    with npz_errors(path):
        meta_arrays = read_npz_arrays(path, None)
        version = meta_arrays["format_version"]
        if version.shape != () or version.dtype.kind not in "iu" or int(version) != FORMAT_VERSION:
            raise ModelFormatError(
                f"{path}: format_version {version!r} is not {FORMAT_VERSION}; "
                "re-export the model with this version of the engine"
            )
        meta = {name: json_object(path, name, meta_arrays[name]) for name in ("architecture", "preprocessing", "card")}
        expected = expected_arrays(meta["architecture"])
        weights = read_npz_arrays(path, expected)
    for name, (dtype, _) in expected.items():
        arr = weights[name]
        if dtype == "int8" and arr.size and arr.min() < -127:
            raise ModelFormatError(f"{path}: array {name!r} holds -128; int8 weights must lie in [-127, 127]")
        low, high = SCALE_RANGE
        if name.endswith("_scale") and arr.size and not np.all((arr >= low) & (arr <= high)):
            raise ModelFormatError(
                f"{path}: array {name!r} has a scale outside [{low:g}, {high:g}]; "
                "scales must be positive and finite, and so must their inverses"
            )
    return meta, {k: v for k, v in weights.items() if k not in META_ARRAYS}


def load_model(path):
    """A float32 ``Sequential`` or int8 ``QuantizedModel`` from ``path``; never unpickles.

    After the file's structure, the model itself is checked: it must give finite
    outputs on a blank, a full and a checkered image, so weights that overflow
    (huge values, a scale near zero) are refused here rather than giving NaN later.
    """
    meta, weights = read_model_file(path)
    arch = meta["architecture"]
    try:
        if arch["kind"] == "int8":
            from .quantized_model import QuantizedModel

            model = QuantizedModel(arch, weights, meta["preprocessing"], meta["card"])
        else:
            model = Sequential.from_config(arch, rng=WEIGHTS_COME_LATER, card=meta["card"])
            model.load_state_arrays(weights)
            model.preprocessing = meta["preprocessing"]
    except ValueError as exc:
        raise ModelFormatError(f"{path}: {exc}") from None
    check_outputs_finite(model, path)
    return model


def check_outputs_finite(model, path, weights: str = "its weights") -> None:
    """ModelFormatError unless ``model`` gives finite outputs on a blank, a full and a checkered image."""
    with np.errstate(all="ignore"):
        outputs = model.logits(_probe_images().reshape((-1,) + tuple(model.input_shape)))
    if not np.all(np.isfinite(outputs)):
        raise ModelFormatError(
            f"{path}: the model's outputs overflow to NaN or infinity on plain images; {weights} are damaged"
        )


def _probe_images() -> np.ndarray:
    """(3, 28, 28) float32: blank, full, and a checkerboard: the extremes a model must survive."""
    checker = (np.indices((28, 28)).sum(axis=0) % 2).astype(np.float32)
    return np.stack([np.zeros((28, 28), np.float32), np.ones((28, 28), np.float32), checker])


def save_model(model, path, card: dict | None = None, preprocessing: dict | None = None) -> None:
    """Write ``model`` (float or int8) to ``path`` atomically; ``card`` defaults to ``model.card``."""
    from .preprocess import PREPROCESSING

    architecture, weights = (
        model.file_contents()
        if hasattr(model, "file_contents")
        else ({"kind": "float32", **model.config()}, model.state_arrays())
    )
    arrays = {
        "format_version": np.array(FORMAT_VERSION, np.int64),
        "architecture": json_array(architecture),
        "preprocessing": json_array(preprocessing or getattr(model, "preprocessing", None) or PREPROCESSING),
        "card": json_array(card if card is not None else model.card),
    }
    arrays.update(weights)
    expected = expected_arrays(architecture)
    if set(weights) != set(expected):
        raise ValueError(f"model arrays {sorted(set(weights) ^ set(expected))} do not match its architecture")
    write_npz_atomic(path, arrays)
