"""The model's mistakes for the page (issue 19): models/gallery.npz, digits/gallery.py and web/gallery.py."""

import io
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "web"))

import gallery as page_gallery  # noqa: E402  (web/gallery.py)
from digits.gallery import find_mistakes, gallery_arrays  # noqa: E402

MODEL_FILE = ROOT / "models" / "mnist_int8.npz"
GALLERY_FILE = ROOT / "models" / "gallery.npz"


@pytest.fixture(scope="module")
def shipped():
    import engine

    return engine.load_model(MODEL_FILE)


@pytest.fixture(scope="module")
def shipped_gallery():
    return page_gallery.read_gallery(GALLERY_FILE.read_bytes(), MODEL_FILE.read_bytes())


def test_the_shipped_gallery_holds_every_test_error_the_card_counts(shipped, shipped_gallery, mnist):
    g = shipped_gallery
    errors = round((1 - shipped.card["test_accuracy"]) * len(mnist["test_labels"]))
    assert g.mistakes == errors, "rebuild it: python scripts/make_gallery.py"
    assert int(g.confusion.sum()) == len(mnist["test_labels"])
    assert int(g.confusion.sum() - np.trace(g.confusion)) == errors
    # Each entry is the test image it names, read as the model reads it now.
    assert np.array_equal(g.images, mnist["test_images"][g.index])
    assert np.array_equal(g.labels, mnist["test_labels"][g.index])
    assert np.array_equal(shipped.predict(g.images.astype(np.float32) / 255), g.predicted)
    assert (g.predicted[: g.mistakes] != g.labels[: g.mistakes]).all()
    assert (g.predicted[g.mistakes :] == g.labels[g.mistakes :]).all()
    assert set(g.labels[g.mistakes :].tolist()) == set(range(10)), "every diagonal cell needs examples"
    # A cell's entries are exactly its count when it is off the diagonal (every mistake is kept).
    for label, read in zip(*np.nonzero(g.confusion - np.diag(np.diag(g.confusion)))):
        assert len(g.entries(int(label), int(read))) == g.confusion[label, read]


def test_find_mistakes_on_a_model_that_reads_one_digit_wrong():
    class Reader:  # reads every image as its first pixel's value, so only the 3 planted ones are wrong
        def predict_proba(self, images):
            return np.eye(10, dtype=np.float32)[images[:, 0, 0]]

    labels = np.repeat(np.arange(10), 6)
    images = np.zeros((60, 28, 28), np.uint8)
    images[:, 0, 0] = labels
    images[[5, 17, 40], 0, 0] = 9 - labels[[5, 17, 40]]
    found = find_mistakes(Reader(), images, labels, per_digit=2)
    assert found.wrong.tolist() == [5, 17, 40]
    assert len(found.right) == 20 and (found.predicted[found.right] == labels[found.right]).all()
    assert found.confusion.sum() == 60 and found.confusion[0, 9] == 1 and found.confusion[6, 3] == 1
    arrays = gallery_arrays(found, images, labels, "0" * 64)
    assert int(arrays["mistakes"]) == 3 and len(arrays["labels"]) == 23


def _bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_read_gallery_refuses_another_model_a_missing_part_and_damage():
    with np.load(GALLERY_FILE, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    model_bytes = MODEL_FILE.read_bytes()
    assert page_gallery.read_gallery(_bytes(arrays), model_bytes).mistakes == int(arrays["mistakes"])
    with pytest.raises(page_gallery.GalleryError, match="another model"):
        page_gallery.read_gallery(_bytes(arrays), model_bytes + b"x")
    with pytest.raises(page_gallery.GalleryError, match="lacks confusion"):
        page_gallery.read_gallery(_bytes({k: v for k, v in arrays.items() if k != "confusion"}), model_bytes)
    with pytest.raises(page_gallery.GalleryError, match="cannot be read"):
        page_gallery.read_gallery(GALLERY_FILE.read_bytes()[:500], model_bytes)
    with pytest.raises(page_gallery.GalleryError, match="shapes"):
        page_gallery.read_gallery(_bytes({**arrays, "probabilities": arrays["probabilities"][:, :9]}), model_bytes)
    with pytest.raises(page_gallery.GalleryError, match="out of range"):
        page_gallery.read_gallery(_bytes({**arrays, "mistakes": np.array(10**6, np.int32)}), model_bytes)


def test_captions_and_pixels(shipped_gallery):
    g = shipped_gallery
    wrong, right = 0, g.mistakes
    assert g.caption(wrong).startswith(f"{g.labels[wrong]} read as {g.predicted[wrong]} (")
    assert g.caption(right) == f"{g.labels[right]} ({g.probabilities[right, g.predicted[right]]:.0%})"
    assert f"#{g.index[wrong]}" in g.description(wrong) and "wrong" in g.description(wrong)
    px = np.frombuffer(g.rgba(wrong), np.uint8).reshape(28, 28, 4)
    assert (px[..., 0] == 255 - g.images[wrong]).all() and (px[..., 3] == 255).all()
