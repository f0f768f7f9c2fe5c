"""Winograd F(2x2, 3x3), the training path of 3x3 stride-1 padding-1 convolutions (engine/layers/winograd.py)."""

import numpy as np
import pytest

import engine.layers.conv2d as conv
from digits.cpu_runtime import engine_threads
from engine.layers import Conv2D
from engine.layers import winograd as wg
from gradcheck import check_layer_gradients


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def im2col_twin(layer: Conv2D) -> Conv2D:
    """The same layer on the im2col path, as inference runs it."""
    twin = Conv2D(layer.in_channels, layer.out_channels, 3, 1, 1)
    twin.params = {k: v.copy() for k, v in layer.params.items()}
    twin.grads = {k: np.zeros_like(v) for k, v in layer.params.items()}
    twin.uses_winograd = lambda shape: False
    return twin


def test_tiles_are_the_transform_of_each_padded_tile(rng):
    """V = Bᵀ d B of every 4x4 tile at stride 2, against the matrices written out."""
    x = rng.standard_normal((2, 6, 4, 3)).astype(np.float32)
    v = wg.input_tiles(x, {}).reshape(4, 4, 2, 3, 2, 3)
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    for a in range(3):
        for b in range(2):
            d = xp[:, 2 * a : 2 * a + 4, 2 * b : 2 * b + 4, :]  # (n, 4, 4, C)
            expected = np.einsum("xr,nrsc,ys->xync", wg.BT, d, wg.BT)
            np.testing.assert_allclose(v[:, :, :, a, b], expected, atol=1e-6)


@pytest.mark.parametrize("n, h, w, c_in, c_out", [(3, 28, 28, 16, 32), (2, 6, 10, 3, 5), (1, 2, 2, 2, 1)])
def test_training_path_matches_im2col(rng, n, h, w, c_in, c_out):
    layer = Conv2D(c_in, c_out, 3, 1, 1, rng=rng)
    layer.params["b"][...] = rng.standard_normal(c_out)
    twin = im2col_twin(layer)
    x = rng.standard_normal((n, h, w, c_in)).astype(np.float32)
    assert layer.uses_winograd(x.shape)
    y, y_ref = layer.forward(x, training=True), twin.forward(x, training=True)
    scale = np.abs(y_ref).max()
    np.testing.assert_allclose(y, y_ref, atol=2e-6 * scale)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dx_ref = layer.backward(dy), twin.backward(dy)
    np.testing.assert_allclose(dx, dx_ref, atol=2e-6 * np.abs(dx_ref).max())
    for name in ("W", "b"):
        ref = twin.grads[name]
        np.testing.assert_allclose(layer.grads[name], ref, atol=2e-6 * np.abs(ref).max(), err_msg=name)


@pytest.mark.parametrize("shape", [(2, 4, 6, 3), (1, 2, 2, 2)])
def test_winograd_gradients(rng, shape):
    layer = Conv2D(shape[-1], 2, 3, 1, 1, rng=rng)
    layer.params["b"] = rng.standard_normal(2).astype(np.float32)
    assert layer.uses_winograd(shape)
    check_layer_gradients(layer, rng.standard_normal(shape), rng)


@pytest.mark.parametrize("threads", [1, 2])
def test_winograd_gradients_span_several_chunks(rng, monkeypatch, threads):
    layer = Conv2D(2, 3, 3, 1, 1, rng=rng)
    monkeypatch.setattr(conv, "WINOGRAD_ELEMENTS", 2 * 16 * 2 * 2 * 3)  # 2 images per chunk: 3 chunks
    assert len(layer._winograd_chunks((5, 4, 4, 2))) == 3
    with engine_threads(threads):
        check_layer_gradients(layer, rng.standard_normal((5, 4, 4, 2)), rng)


def test_winograd_gives_the_same_bits_on_one_thread_or_two(rng, monkeypatch):
    monkeypatch.setattr(conv, "WINOGRAD_ELEMENTS", 2 * 16 * 4 * 4 * 8)  # 2 images per chunk
    layer = Conv2D(4, 8, 3, 1, 1, rng=rng)
    x = rng.standard_normal((9, 8, 8, 4)).astype(np.float32)
    dy = rng.standard_normal((9, 8, 8, 8)).astype(np.float32)
    results = []
    for threads in (1, 2):
        with engine_threads(threads):
            y = layer.forward(x, training=True)
            dx = layer.backward(dy)
            results.append((y, dx, layer.grads["W"].copy(), layer.grads["b"].copy()))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize(
    "kernel, stride, padding, shape, expected",
    [
        (3, 1, 1, (28, 28, 16), True),
        (3, 1, 1, (5, 6, 16), False),
        (3, 1, 0, (7, 7, 64), False),
        (3, 1, 1, (28, 28, 1), False),
    ],
)
def test_only_3x3_stride_1_padding_1_even_images_with_channels_take_it(kernel, stride, padding, shape, expected):
    assert wg.applies(kernel, stride, padding, *shape) is expected


def test_inference_keeps_im2col(rng, monkeypatch):
    layer = Conv2D(2, 3, 3, 1, 1, rng=rng)
    monkeypatch.setattr(wg, "input_tiles", None)  # would fail if called
    layer.forward(rng.standard_normal((2, 4, 4, 2)).astype(np.float32))
