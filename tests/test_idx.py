"""IDX reader and writer: round trips, and every malformed file is an IdxFormatError."""

import gzip
import shutil

import numpy as np
import pytest

from engine import IdxFormatError, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip(tmp_path, dtype, name):
    arr = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    write_idx(tmp_path / name, arr)
    out = read_idx(tmp_path / name)
    assert out.dtype == np.dtype(dtype) and np.array_equal(out, arr)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "labels", arr, compress=True)  # gzip without .gz
    write_idx(tmp_path / "plain.gz", arr, compress=False)  # .gz name, raw content
    assert (tmp_path / "labels").read_bytes()[:2] == b"\x1f\x8b"
    assert np.array_equal(read_idx(tmp_path / "labels"), arr)
    assert np.array_equal(read_idx(tmp_path / "plain.gz"), arr)


@pytest.fixture
def good_bytes(tmp_path):
    write_idx(tmp_path / "good", np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    return (tmp_path / "good").read_bytes()


def bad_cases(good: bytes) -> dict[str, bytes]:
    return {
        "truncated data": good[:-3],
        "truncated header": good[:2],
        "truncated dimensions": good[:9],
        "extended": good + b"\x00\x01",
        "wrong magic": b"\x01\x02" + good[2:],
        "wrong type code": good[:2] + b"\x07" + good[3:],
        "zero dimensions": good[:3] + b"\x00" + good[4:],
        "too many dimensions": good[:3] + b"\x09" + good[4:],
        "wrong dimensions": good[:4] + np.array([2, 3, 5], ">u4").tobytes() + good[16:],
        "huge declared shape": good[:4] + np.array([65535, 65535, 65535], ">u4").tobytes() + good[16:],
        "empty": b"",
        "corrupt gzip": gzip.compress(good)[:20] + b"garbage" * 5,
        "gzip of a truncated file": gzip.compress(good[:-1]),
        "gzip with trailing data": gzip.compress(good + b"\x00"),
        "not gzip, not idx": b"PK\x03\x04 this is a zip",
    }


@pytest.mark.parametrize("case", list(bad_cases(b"x" * 40)))
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_malformed_files_raise_idx_format_error(tmp_path, good_bytes, case, suffix):
    path = tmp_path / ("bad" + suffix)
    path.write_bytes(bad_cases(good_bytes)[case])
    with pytest.raises(IdxFormatError) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(IdxFormatError, match="no such file"):
        read_idx(tmp_path / "nope")


def test_reads_the_cached_mnist_files(mnist):
    assert mnist["train_images"].shape == (60000, 28, 28)
    assert mnist["test_labels"].shape == (10000,)
    assert np.bincount(mnist["test_labels"]).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_train_offline_data_flag_reads_standard_files(tmp_path, mnist):
    """--data DIR takes the four official names, gz or not."""
    from digits.mnist import FILES, read_folder
    from digits.paths import mnist_cache_dir

    src = mnist_cache_dir()
    for i, stem in enumerate(FILES.values()):
        gz = src / (stem + ".gz")
        if i % 2:
            shutil.copy(gz, tmp_path / (stem + ".gz"))
        else:
            (tmp_path / stem).write_bytes(gzip.decompress(gz.read_bytes()))
    data = read_folder(tmp_path)
    assert np.array_equal(data["train_labels"], mnist["train_labels"])
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        read_folder(tmp_path)
