"""web/inside.py: the inside panel's heat-map and feature-map pixels, and which digits it explains."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

import inside  # noqa: E402


def pixels(rgba: bytes, shape) -> np.ndarray:
    return np.frombuffer(rgba, np.uint8).reshape(*shape, 4)


def test_targets_are_the_answer_and_the_likeliest_other_digit():
    probs = np.array([0.01, 0.02, 0.6, 0.3, 0.07, 0, 0, 0, 0, 0], np.float32)
    assert inside.targets(probs, 2) == (2, 3)
    assert inside.targets(probs, None) == (2, 3)  # a refused mark: its closest digit
    assert inside.targets(probs, 3) == (3, 2)  # the label wins, the runner-up is then the top other


def test_heat_is_red_toward_blue_against_white_at_zero_and_shows_the_ink():
    heat = np.zeros((28, 28), np.float32)
    image = np.zeros((28, 28), np.float32)
    heat[3, 4], heat[10, 10] = 2.0, -1.0
    image[20, 20] = 1.0  # ink that pushed nowhere
    px = pixels(inside.heat_rgba(heat, image), (28, 28))
    assert (px[..., 3] == 255).all()
    assert tuple(px[3, 4, :3]) == tuple(inside.TOWARD.astype(int))  # the strongest: full red
    r, g, b = px[10, 10, :3].astype(int)
    assert b > r + 40 and b > g  # half the magnitude against: clearly blue
    assert tuple(px[0, 0, :3]) == (255, 255, 255)
    assert px[20, 20, 0] == px[20, 20, 2] < 255  # gray ink under the heat
    # The colours follow the sign: a map flipped swaps them.
    flipped = pixels(inside.heat_rgba(-heat, image), (28, 28))
    assert flipped[3, 4, 2] > flipped[3, 4, 0] and flipped[10, 10, 0] > flipped[10, 10, 2]


def test_an_all_zero_heat_map_is_blank_not_nan():
    px = pixels(inside.heat_rgba(np.zeros((28, 28)), np.zeros((28, 28))), (28, 28))
    assert (px[..., :3] == 255).all()
    with pytest.raises(ValueError):
        inside.heat_rgba(np.zeros((28, 28)), np.zeros((14, 14)))


def test_channels_share_one_scale_and_are_the_first_ones():
    maps = np.zeros((5, 6, 20), np.float32)
    maps[1, 2, 0] = 4.0
    maps[3, 3, 1] = 1.0
    maps[0, 0, 10] = 100.0  # not shown: does not set the scale
    out = inside.channel_rgba(maps)
    assert len(out) == inside.CHANNELS_SHOWN
    first, second = pixels(out[0], (5, 6)), pixels(out[1], (5, 6))
    assert tuple(first[1, 2]) == (255, 255, 255, 255)
    assert second[3, 3, 0] == 64  # a quarter of the stage's largest
    assert (pixels(out[2], (5, 6))[..., :3] == 0).all()
    assert len(inside.channel_rgba(np.zeros((2, 2, 3)))) == 3  # fewer channels than CHANNELS_SHOWN: all of them
    with pytest.raises(ValueError):
        inside.channel_rgba(np.zeros((4, 4)))


def test_stage_text_names_its_size_and_what_it_sees():
    assert inside.stage_text("conv1", (28, 28, 16)).startswith("conv1 · 28×28, 16 channels (first 8 shown). Edges")
    assert "Patterns built" in inside.stage_text("conv9", (3, 3, 4))


def test_the_shipped_model_explained_through_the_panel():
    """engine.explain's arrays for a real drawing become the panel's pixels: red on the ink, maps lit."""
    import engine

    model = engine.load_model(Path(__file__).resolve().parents[1] / "models" / "mnist_int8.npz")
    x = np.zeros((28, 28), np.float32)
    x[4:24, 13:16] = 1.0  # a 1
    probs = model.predict_proba(x)[0]
    answer, second = inside.targets(probs, int(probs.argmax()))
    px = pixels(inside.heat_rgba(engine.explain.saliency(model, x, answer), x), (28, 28)).astype(int)
    red = (px[..., 0] > px[..., 2] + 60).sum()
    assert red > 10, red
    stages = engine.explain.feature_maps(model, x)
    assert [n for n, _ in stages][:2] == ["conv1", "conv2"]
    for _, maps in stages:
        lit = [(pixels(b, maps.shape[:2])[..., 0] > 0).any() for b in inside.channel_rgba(maps)]
        assert any(lit)
