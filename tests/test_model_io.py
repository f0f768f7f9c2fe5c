"""Model files: round trips, and every kind of bad file is a ModelFormatError with no side effects."""

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import ModelFormatError
from engine.npz import json_array


def test_float_round_trip(tmp_path, trained_mlp, mnist):
    path = tmp_path / "m.npz"
    engine.save_model(trained_mlp, path)
    loaded = engine.load_model(path)
    x = mnist["test_images"][:200]
    np.testing.assert_array_equal(loaded.predict_proba(x), trained_mlp.predict_proba(x))
    assert loaded.card == {"name": "test-mlp"}


def test_predict_accepts_uint8_float_single_and_batch(trained_mlp, mnist):
    x = mnist["test_images"][:5]
    p_uint8 = trained_mlp.predict_proba(x)
    assert p_uint8.shape == (5, 10) and p_uint8.dtype == np.float32
    np.testing.assert_allclose(p_uint8.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(trained_mlp.predict_proba(x.astype(np.float32) / 255), p_uint8, atol=1e-6)
    assert trained_mlp.predict_proba(x[0]).shape == (1, 10)
    labels = trained_mlp.predict(x)
    assert labels.dtype == np.int64 and labels.shape == (5,)


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.zeros((28, 27)), "shape"),
        (np.zeros((2, 3, 28, 28)), "shape"),
        (np.full((28, 28), 2.0), r"\[0, 1\]"),
        (np.full((28, 28), np.nan), "NaN"),
        (np.zeros((28, 28), np.int32), "uint8"),
        (np.array([["a"] * 28] * 28), "numeric"),
    ],
)
def test_bad_images_give_a_clear_error(trained_mlp, bad, match):
    with pytest.raises(engine.InputShapeError, match=match):
        trained_mlp.predict_proba(bad)


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, trained_mlp, monkeypatch):
    path = tmp_path / "m.npz"
    engine.save_model(trained_mlp, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(KeyboardInterrupt):
        engine.save_model(trained_mlp, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary left behind


# --- hostile and damaged files -------------------------------------------------------------


def arrays_of(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def write_npz(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


class Payload:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def mutate(good: dict, tmp_path, case: str):
    arrays = dict(good)
    marker = tmp_path / "pwned"
    if case == "pickled object array":
        arrays["0.W"] = np.array([Payload(str(marker))], dtype=object)
    elif case == "missing weight":
        del arrays["0.W"]
    elif case == "unexpected array":
        arrays["extra"] = np.zeros(3, np.float32)
    elif case == "wrong dtype":
        arrays["0.W"] = arrays["0.W"].astype(np.float64)
    elif case == "wrong shape":
        arrays["0.W"] = arrays["0.W"][:, :-1]
    elif case == "nan weight":
        arrays["0.W"] = arrays["0.W"].copy()
        arrays["0.W"][0, 0] = np.nan
    elif case == "unknown format version":
        arrays["format_version"] = np.array(99, np.int64)
    elif case == "architecture not json":
        arrays["architecture"] = np.frombuffer(b"{not json", np.uint8)
    elif case == "architecture with unknown layer":
        arch = json.loads(arrays["architecture"].tobytes())
        arch["layers"][0]["type"] = "Lambda"
        arrays["architecture"] = json_array(arch)
    elif case == "huge declared layer":
        arch = json.loads(arrays["architecture"].tobytes())
        arch["layers"][0]["out_features"] = 60000
        arrays["architecture"] = json_array(arch)
    elif case == "architecture not ending in 10 classes":
        arch = json.loads(arrays["architecture"].tobytes())
        arch["layers"][-1]["out_features"] = 9
        arrays["architecture"] = json_array(arch)
        arrays["8.W"], arrays["8.b"] = arrays["8.W"][:, :9], arrays["8.b"][:9]
    else:
        raise AssertionError(case)
    return arrays, marker


FLOAT_CASES = [
    "pickled object array",
    "missing weight",
    "unexpected array",
    "wrong dtype",
    "wrong shape",
    "nan weight",
    "unknown format version",
    "architecture not json",
    "architecture with unknown layer",
    "huge declared layer",
    "architecture not ending in 10 classes",
]


@pytest.mark.parametrize("case", FLOAT_CASES)
def test_bad_model_files_are_refused(tmp_path, trained_mlp, case):
    good_path = tmp_path / "good.npz"
    engine.save_model(trained_mlp, good_path)
    arrays, marker = mutate(arrays_of(good_path), tmp_path, case)
    bad = tmp_path / "bad.npz"
    write_npz(bad, arrays)
    with pytest.raises(ModelFormatError) as info:
        engine.load_model(bad)
    assert str(bad) in str(info.value)
    assert not marker.exists(), "loading ran code from the file"


def test_pickle_payload_alone_runs_nothing(tmp_path):
    """A raw pickle file (and a .npy holding a pickle) never gets unpickled."""
    marker = tmp_path / "pwned"
    raw = tmp_path / "model.npz"
    raw.write_bytes(pickle.dumps(Payload(str(marker))))
    with pytest.raises(ModelFormatError):
        engine.load_model(raw)
    assert not marker.exists()


def test_truncated_and_non_zip_files(tmp_path, trained_mlp):
    good = tmp_path / "good.npz"
    engine.save_model(trained_mlp, good)
    data = good.read_bytes()
    for i, blob in enumerate([data[: len(data) // 2], data[:100], b"", b"hello world" * 10, data[:-30]]):
        bad = tmp_path / f"bad{i}.npz"
        bad.write_bytes(blob)
        with pytest.raises(ModelFormatError):
            engine.load_model(bad)
    with pytest.raises(ModelFormatError, match="no such model"):
        engine.load_model(tmp_path / "missing.npz")


def test_huge_declared_shape_in_npy_header_is_refused_before_allocation(tmp_path, trained_mlp):
    """A header claiming a gigantic array is rejected from the header alone (the data is tiny)."""
    good = tmp_path / "good.npz"
    engine.save_model(trained_mlp, good)
    arrays = arrays_of(good)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, arr in arrays.items():
            if name == "0.W":
                header = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    header, {"descr": "<f4", "fortran_order": False, "shape": (100000, 100000)}
                )
                zf.writestr(name + ".npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\x00" * 64)
            else:
                npy = io.BytesIO()
                np.lib.format.write_array(npy, arr)
                zf.writestr(name + ".npy", npy.getvalue())
    bad = tmp_path / "bomb.npz"
    bad.write_bytes(buf.getvalue())
    with pytest.raises(ModelFormatError, match="0.W"):
        engine.load_model(bad)


def test_int8_specific_checks(tmp_path, trained_mlp, mnist):
    from engine.quantize import quantize

    q = quantize(trained_mlp, mnist["train_images"][:300].astype(np.float32) / 255)
    good = tmp_path / "q.npz"
    engine.save_model(q, good)
    arrays = arrays_of(good)
    for name, value, match in [("0.W", -128, "-127"), ("0.W_scale", 0.0, "scale"), ("0.x_scale", -1.0, "scale")]:
        bad_arrays = dict(arrays)
        bad_arrays[name] = arrays[name].copy()
        bad_arrays[name].flat[0] = value
        bad = tmp_path / "bad.npz"
        write_npz(bad, bad_arrays)
        with pytest.raises(ModelFormatError, match=match):
            engine.load_model(bad)


def _shipped_with_member(tmp_path, name: str, extra: bytes):
    """The shipped model with ``extra`` bytes after member ``name``'s array data."""
    shipped = Path(__file__).resolve().parent.parent / "models" / "mnist_int8.npz"
    buffer = io.BytesIO()
    with zipfile.ZipFile(shipped) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            out.writestr(info.filename, data + extra if info.filename == name else data)
    path = tmp_path / "model.npz"
    path.write_bytes(buffer.getvalue())
    return path


def test_an_oversized_zip_entry_is_named_as_the_entry_not_the_array(tmp_path):
    """'card' declares a few hundred bytes, but its zip entry holds over a MiB: the entry is what is over."""
    path = _shipped_with_member(tmp_path, "card.npy", b" " * ((1 << 20) + 8192))
    with pytest.raises(ModelFormatError) as info:
        engine.load_model(path)
    message = str(info.value)
    assert "zip entry 'card.npy'" in message and "over the" in message, message
    assert "declares" not in message, message


def test_an_oversized_array_is_named_as_the_array(tmp_path, trained_mlp):
    good = tmp_path / "good.npz"
    engine.save_model(trained_mlp, good)
    arrays = arrays_of(good)
    arrays["card"] = np.zeros((1 << 20) + 1, np.uint8)  # a 1 MiB + 1 byte "JSON" array
    bad = tmp_path / "bad.npz"
    write_npz(bad, arrays)
    with pytest.raises(ModelFormatError, match=r"array 'card' declares 1048577 bytes, over the 1048576 limit"):
        engine.load_model(bad)


@pytest.mark.parametrize("member", ["format_version.npy", "architecture.npy", "0.x_scale.npy"])
def test_a_header_shape_of_booleans_is_refused(tmp_path, member):
    """NumPy's header parser takes (True,) as a shape, then fails to reshape with a TypeError (found by
    tests/test_fuzz.py); it must be a ModelFormatError like any other bad header."""
    shipped = Path(__file__).resolve().parent.parent / "models" / "mnist_int8.npz"
    buffer = io.BytesIO()
    with zipfile.ZipFile(shipped) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == member:
                header_len = int.from_bytes(data[8:10], "little")
                header = data[10 : 10 + header_len].decode("latin-1")
                start = header.index("'shape'")
                header = header[:start] + "'shape': (True,), }"
                data = data[:8] + len(header).to_bytes(2, "little") + header.encode() + data[10 + header_len :]
            out.writestr(info.filename, data)
    path = tmp_path / "model.npz"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ModelFormatError, match="bad header"):
        engine.load_model(path)


SHIPPED_FILE = Path(__file__).resolve().parent.parent / "models" / "mnist_int8.npz"


def rewritten(tmp_path, edit=lambda name, data: data, compression=zipfile.ZIP_DEFLATED, extra=0) -> Path:
    """The shipped model re-zipped: each member's bytes through ``edit``, ``compression``, ``extra`` empty entries."""
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(SHIPPED_FILE) as src, zipfile.ZipFile(path, "w", compression) as out:
        for info in src.infolist():
            out.writestr(info.filename, edit(info.filename, src.read(info.filename)))
        for i in range(extra):
            out.writestr(f"pad{i}.npy", b"")
    return path


def with_header(member: str, header: str):
    """An ``edit`` that gives ``member`` an npy 1.0 header of text ``header``."""

    def edit(name, data):
        if name != member:
            return data
        old = int.from_bytes(data[8:10], "little")
        return data[:8] + len(header).to_bytes(2, "little") + header.encode("latin-1") + data[10 + old :]

    return edit


@pytest.mark.parametrize(
    "compression, name", [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")], ids=["bzip2", "lzma"]
)
def test_bzip2_and_lzma_entries_are_refused_unread(tmp_path, compression, name):
    """zipfile inflates a bzip2 block whole (a 100 kB entry can declare 128 bytes and expand to a
    gigabyte: helper-29's fuzzing took 2 GB) and LZMA fails with its own exception class."""
    path = rewritten(tmp_path, compression=compression)
    with pytest.raises(ModelFormatError, match=f"compressed with {name}; a model file is stored or deflated"):
        engine.load_model(path)
    assert engine.load_model(rewritten(tmp_path, compression=zipfile.ZIP_STORED)).input_shape == (28, 28, 1)


@pytest.mark.parametrize(
    "header",
    [
        "{'descr': (), 'fortran_order': False, 'shape': (1,), }",  # IndexError inside NumPy's parser
        "{'descr': ('<f4',), 'fortran_order': False, 'shape': (1,), }",
        "-" * 9000 + "1",  # MemoryError (or RecursionError) from the literal parser
    ],
    ids=["empty descr tuple", "one-item descr tuple", "thousands of minus signs"],
)
def test_headers_that_break_numpys_parser_are_bad_headers(tmp_path, header):
    with pytest.raises(ModelFormatError, match="'0.W.npy' has a bad header"):
        engine.load_model(rewritten(tmp_path, with_header("0.W.npy", header)))


def test_a_zip_directory_too_big_for_a_model_is_refused_before_it_is_parsed(tmp_path):
    path = rewritten(tmp_path, extra=2000)
    with pytest.raises(ModelFormatError, match="declares 2028 entries"):
        engine.load_model(path)


def test_a_zip64_archive_is_refused(tmp_path, monkeypatch):
    """ZIP64 end records let a small file declare millions of entries; our files never need one."""
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 4)  # zipfile writes ZIP64 records past this count
    path = rewritten(tmp_path)
    monkeypatch.undo()
    with pytest.raises(ModelFormatError, match="a ZIP64 archive"):
        engine.load_model(path)


def test_a_name_too_long_for_the_file_system_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFormatError, match="cannot open it as a model file"):
        engine.load_model(tmp_path / ("m" * 300 + ".npz"))


def test_scales_whose_product_overflows_are_refused_without_a_numpy_warning(tmp_path):
    """Each scale in range (1e30), their product not: was NumPy's "overflow encountered" on stderr."""
    import warnings

    arrays = arrays_of(SHIPPED_FILE)
    arrays["14.x_scale"] = np.array(1e30, arrays["14.x_scale"].dtype).reshape(arrays["14.x_scale"].shape)
    arrays["14.W_scale"] = np.full_like(arrays["14.W_scale"], 1e30)
    path = tmp_path / "model.npz"
    write_npz(path, arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelFormatError, match="overflows float32; the scales are damaged"):
            engine.load_model(path)


def test_a_json_number_too_long_to_read_is_named(tmp_path):
    arrays = arrays_of(SHIPPED_FILE)
    card = json.loads(arrays["card"].tobytes())
    text = json.dumps(card).replace('"test_accuracy": ', '"test_accuracy": ' + "9" * 5000 + ', "was": ', 1)
    arrays["card"] = np.frombuffer(text.encode(), np.uint8)
    path = tmp_path / "model.npz"
    write_npz(path, arrays)
    with pytest.raises(ModelFormatError, match="card holds a number JSON cannot read"):
        engine.load_model(path)


def test_a_convolution_whose_patches_would_take_gigabytes_is_refused_before_any_array(tmp_path):
    """helper-30's fuzzing: within the flops bound, a 49x49 kernel with one output channel over 256
    channels asked for 482 million patch numbers per image (1.9 GB at load, 3.7 GB to predict) from a
    5 kB file. The architecture is refused, naming the layer, before anything is allocated."""
    from engine.architecture import MAX_WORKING_ELEMENTS, layer_specs
    from engine.architectures import ARCHITECTURES

    def arch(kernel, channels):
        return {
            "kind": "float32",
            "input_shape": [28, 28, 1],
            "layers": [
                {"type": "Conv2D", "in_channels": 1, "out_channels": channels, "kernel": 3, "stride": 1, "padding": 1},
                {
                    "type": "Conv2D",
                    "in_channels": channels,
                    "out_channels": 1,
                    "kernel": kernel,
                    "stride": 1,
                    "padding": kernel // 2,
                },
                {"type": "Flatten"},
                {"type": "Dense", "in_features": 784, "out_features": 10},
            ],
        }

    with pytest.raises(ModelFormatError, match=r"layers\[1\].*working memory"):
        layer_specs(arch(49, 256))
    assert max(s.working for s in layer_specs(arch(3, 64))) == 28 * 28 * 9 * 64 <= MAX_WORKING_ELEMENTS
    for name, config in ARCHITECTURES.items():  # every architecture training offers fits
        assert max(s.working for s in layer_specs({"kind": "float32", **config()})) <= MAX_WORKING_ELEMENTS, name


def test_a_folder_or_a_device_is_not_called_missing(tmp_path):
    """helper-30's fuzzing: a directory, /dev/zero or a FIFO was "no such model file"."""
    with pytest.raises(ModelFormatError, match="not a regular file"):
        engine.load_model(tmp_path)
    with pytest.raises(ModelFormatError, match="not a regular file"):
        engine.load_model("/dev/zero")


def test_an_array_named_twice_in_the_zip_is_refused(tmp_path, trained_mlp):
    """zipfile reads the last of two entries of one name, another reader might take the first."""
    good = tmp_path / "good.npz"
    engine.save_model(trained_mlp, good)
    twice = tmp_path / "twice.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(twice, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        with pytest.warns(UserWarning, match="Duplicate name"):
            dst.writestr("0.W.npy", src.read("0.W.npy"))
    with pytest.raises(ModelFormatError, match="appears more than once"):
        engine.load_model(twice)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"extra": [1, 2, 3]}, "unknown field 'extra'"),
        ({"calibration": {"deep": [1] * 50}}, "calibration must be the name of a method"),
    ],
)
def test_an_architecture_field_nobody_reads_is_refused(tmp_path, change, message):
    """helper-30's fuzzing: top-level fields were taken unread, while layer configs refuse theirs."""
    import io

    from engine.npz import array_json

    src = Path(__file__).resolve().parents[1] / "models" / "mnist_int8.npz"
    with zipfile.ZipFile(src) as z:
        arrays = {n[:-4]: np.load(io.BytesIO(z.read(n))) for n in z.namelist()}
    arrays["architecture"] = json_array({**array_json(arrays["architecture"]), **change})
    path = tmp_path / "changed.npz"
    np.savez(path, **arrays)
    with pytest.raises(ModelFormatError, match=message):
        engine.load_model(path)
