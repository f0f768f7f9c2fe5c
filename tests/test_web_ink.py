"""web/ink.py: browser pixels -> the grayscale engine.preprocess expects (runs in CPython too)."""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "web"))

import ink  # noqa: E402


def rgba_of(gray: np.ndarray) -> np.ndarray:
    g = np.asarray(gray, np.uint8)
    return np.stack([g, g, g, np.full_like(g, 255)], axis=-1)


def scan(dark_on_light=True, paper=230, ink_level=30, size=120):
    img = np.full((size, size), paper, np.float32)
    img[30:90, 55:65] = ink_level  # a "1"
    img += np.random.default_rng(0).normal(0, 4, img.shape)
    if not dark_on_light:
        img = 255 - img
    return np.clip(img, 0, 255).astype(np.uint8)


def test_rgba_array_checks_the_size():
    data = bytes(range(16))
    assert ink.rgba_array(data, 2, 2).shape == (2, 2, 4)
    with pytest.raises(ValueError, match="expected 3x2 RGBA"):
        ink.rgba_array(data, 3, 2)


def test_pad_gray_takes_the_ink_channel():
    g = np.zeros((5, 5), np.uint8)
    g[2, 1:4] = 255
    assert np.array_equal(ink.pad_gray(rgba_of(g)), g)


@pytest.mark.parametrize("dark_on_light", [True, False])
def test_image_gray_gives_bright_ink_on_black(dark_on_light):
    out = ink.image_gray(rgba_of(scan(dark_on_light)))
    assert out.dtype == np.uint8
    assert out[60, 60] > 200  # the stroke is bright
    assert out[:20].max() == 0 and out[:, :40].max() == 0  # the paper (and its noise) is black


def test_a_blank_photo_has_no_ink():
    flat = np.full((50, 50), 200, np.uint8) + np.random.default_rng(1).integers(0, 6, (50, 50)).astype(np.uint8)
    assert ink.image_gray(rgba_of(flat)).max() == 0


def test_to_gray_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="unknown ink kind"):
        ink.to_gray("video", rgba_of(np.zeros((2, 2))))


def test_preview_rgba_is_opaque_gray():
    x = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28)
    out = np.frombuffer(ink.preview_rgba(x), np.uint8).reshape(28, 28, 4)
    assert out[..., 3].min() == 255
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255
    assert np.array_equal(out[..., 0], out[..., 1])


def test_image_path_matches_what_preprocess_needs():
    """A scan goes through ink.image_gray then engine.preprocess to a valid 28x28 input."""
    sys.path.insert(0, str(ROOT))
    engine = pytest.importorskip("engine")
    x = engine.preprocess(ink.image_gray(rgba_of(scan())))
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
