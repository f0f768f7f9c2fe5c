"""Every layer: finite-difference gradient checks (input and parameters) and shape agreement."""

import numpy as np
import pytest

from digits.cpu_runtime import engine_threads
from engine import parallel
from engine.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, build_layer
from engine.losses import softmax_cross_entropy
from gradcheck import check_layer_gradients, numerical_gradient


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("n,d_in,d_out", [(1, 3, 2), (4, 5, 7), (6, 1, 1)])
def test_dense_gradients(rng, n, d_in, d_out):
    check_layer_gradients(Dense(d_in, d_out, rng=rng), rng.standard_normal((n, d_in)), rng)


@pytest.mark.parametrize(
    "n,h,w,c_in,c_out,k,stride,pad",
    [
        (2, 5, 5, 1, 3, 3, 1, 1),
        (2, 6, 5, 2, 3, 3, 1, 0),
        (1, 7, 7, 3, 2, 3, 2, 1),
        (3, 6, 6, 2, 2, 2, 2, 0),
        (2, 5, 4, 2, 4, 1, 1, 0),
        (1, 8, 8, 2, 2, 5, 1, 2),
    ],
)
def test_conv2d_gradients(rng, n, h, w, c_in, c_out, k, stride, pad):
    layer = Conv2D(c_in, c_out, k, stride, pad, rng=rng)
    layer.params["b"] = rng.standard_normal(c_out).astype(np.float32)
    check_layer_gradients(layer, rng.standard_normal((n, h, w, c_in)), rng)


@pytest.mark.parametrize("threads", [1, 2])
def test_conv2d_gradients_span_several_chunks(rng, monkeypatch, threads):
    import engine.layers.conv2d as conv

    layer = Conv2D(2, 3, 3, 1, 1, rng=rng)
    monkeypatch.setattr(conv, "PATCH_ELEMENTS", 2 * 4 * 4 * 3 * 3 * 3)  # 2 images per chunk: 3 chunks
    assert layer.images_per_chunk((5, 4, 4, 2)) == 2
    with engine_threads(threads):
        check_layer_gradients(layer, rng.standard_normal((5, 4, 4, 2)), rng)


def test_conv2d_matches_direct_convolution(rng):
    """Against a naive loop over every output pixel (the definition of cross-correlation)."""
    x = rng.standard_normal((2, 6, 5, 3))
    layer = Conv2D(3, 4, 3, stride=2, padding=1, rng=rng)
    w, b = layer.params["W"].astype(np.float64), layer.params["b"]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    expected = np.zeros((2, 3, 3, 4))
    for i in range(3):
        for j in range(3):
            patch = xp[:, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3, :]
            expected[:, i, j, :] = np.einsum("nhwc,hwcf->nf", patch, w) + b
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,size", [((2, 4, 4, 3), 2), ((1, 5, 7, 2), 2), ((2, 6, 6, 1), 3)])
def test_maxpool_gradients(rng, shape, size):
    check_layer_gradients(MaxPool2D(size), rng.standard_normal(shape), rng)


@pytest.mark.parametrize("size", [2, 16])  # 16: 256 ties, more than a byte counts
def test_maxpool_ties_share_the_gradient(size):
    layer = MaxPool2D(size)
    x = np.ones((1, size, size, 1))
    layer.forward(x, training=True)
    np.testing.assert_allclose(layer.backward(np.ones((1, 1, 1, 1))), np.full((1, size, size, 1), 1 / size**2))


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 3, 2), (5, 1)])
def test_relu_gradients(rng, shape):
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink, where the derivative is undefined
    check_layer_gradients(ReLU(), x, rng)


@pytest.mark.parametrize("shape", [(6, 3), (3, 3, 2, 4), (2, 5, 5, 1)])
def test_batchnorm_gradients_training(rng, shape):
    layer = BatchNorm(shape[-1])
    layer.params["gamma"] = rng.uniform(0.5, 1.5, shape[-1]).astype(np.float32)
    layer.params["beta"] = rng.standard_normal(shape[-1]).astype(np.float32)
    check_layer_gradients(layer, rng.standard_normal(shape) * 3 + 1, rng, atol=1e-5)


def test_batchnorm_gives_the_same_results_in_one_chunk_or_many(rng, monkeypatch):
    # A dense batch fits in one chunk and takes a shorter path; it must agree with the chunked one.
    x = (rng.standard_normal((40, 6)) * 3 + 1).astype(np.float32)
    dy = rng.standard_normal((40, 6)).astype(np.float32)
    results = []
    for chunk_elements in (parallel.CHUNK_ELEMENTS, 6 * 7):
        monkeypatch.setattr(parallel, "CHUNK_ELEMENTS", chunk_elements)
        layer = BatchNorm(6)
        layer.params["gamma"][...] = np.linspace(0.5, 1.5, 6)
        layer.params["beta"][...] = np.linspace(-1, 1, 6)
        y = layer.forward(x, training=True)
        results.append([y, layer.backward(dy), *layer.grads.values(), *layer.buffers.values()])
    for one_chunk, chunked in zip(*results):
        np.testing.assert_allclose(one_chunk, chunked, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "shape,chunk_elements",
    [((4, 9, 7, 10), 10 * 24), ((3, 8, 8, 16), 1 << 18), ((50, 6), 6 * 7), ((40, 300), 300 * 16)],  # 300: not widened
)
def test_batchnorm_matches_the_two_pass_formulas(rng, monkeypatch, shape, chunk_elements):
    """One-pass statistics on wide rows against the textbook two-pass float64 formulas, on inputs whose
    mean is several standard deviations from 0 (where E[x²] - mean² loses digits), odd row counts
    and channel counts that do not divide a wide row, with the ReLU after it."""
    monkeypatch.setattr(parallel, "CHUNK_ELEMENTS", chunk_elements)
    x = (rng.standard_normal(shape) * 2 + 6).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    c = shape[-1]
    gamma, beta = np.linspace(0.5, 1.5, c), np.linspace(-1, 1, c)
    layer = BatchNorm(c, momentum=0.0)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    layer.relu_after = True
    y, dx = layer.forward(x, training=True), None
    dx = layer.backward(dy)

    rows, d = x.reshape(-1, c).astype(np.float64), dy.reshape(-1, c).astype(np.float64)
    n = rows.shape[0]
    mean, var = rows.mean(0), rows.var(0)
    x_hat = (rows - mean) / np.sqrt(var + layer.eps)
    pre = gamma * x_hat + beta
    d = d * (pre > 0)
    dgamma, dbeta = (d * x_hat).sum(0), d.sum(0)
    expected_dx = gamma / np.sqrt(var + layer.eps) * (d - dbeta / n - x_hat * dgamma / n)
    np.testing.assert_allclose(y.reshape(-1, c), np.maximum(pre, 0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx.reshape(-1, c), expected_dx, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.grads["gamma"], dgamma, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(layer.grads["beta"], dbeta, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(layer.buffers["running_mean"], mean, rtol=1e-5)
    np.testing.assert_allclose(layer.buffers["running_var"], var * n / (n - 1), rtol=1e-4)


def test_batchnorm_inference_uses_running_statistics(rng):
    layer = BatchNorm(3, momentum=0.0)
    x = rng.standard_normal((50, 3)) * 2 + 5
    layer.forward(x, training=True)
    y = layer.forward(x, training=False)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-3)
    np.testing.assert_allclose(y.std(axis=0), np.sqrt(49 / 50), rtol=1e-3)  # running var is unbiased


def test_dropout_gradients_and_scaling(rng):
    check_layer_gradients(Dropout(0.4), rng.standard_normal((4, 6)), rng)
    layer = Dropout(0.5)
    y = layer.forward(np.ones((1000, 100), np.float32), training=True, rng=rng)
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.02
    assert np.array_equal(layer.forward(np.ones((2, 2)), training=False), np.ones((2, 2)))


def test_dropout_training_requires_a_generator():
    with pytest.raises(ValueError, match="Generator"):
        Dropout(0.5).forward(np.ones((2, 2)), training=True)


def test_flatten_gradients(rng):
    check_layer_gradients(Flatten(), rng.standard_normal((2, 3, 2, 2)), rng)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("n,k", [(1, 2), (5, 10), (3, 4)])
def test_softmax_cross_entropy_gradient(rng, smoothing, n, k):
    logits = rng.standard_normal((n, k))
    labels = rng.integers(0, k, n)
    _, analytic = softmax_cross_entropy(logits, labels, smoothing)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(logits, labels, smoothing)[0], logits)
    np.testing.assert_allclose(analytic, numeric, atol=1e-7, rtol=1e-6)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0]], np.float32)
    loss, grad = softmax_cross_entropy(logits, np.array([0]))
    assert np.isfinite(loss) and loss == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.isfinite(grad))
    loss, _ = softmax_cross_entropy(logits, np.array([2]))
    assert loss == pytest.approx(2000.0, rel=1e-6)


@pytest.mark.parametrize(
    "config,in_shape,out_shape",
    [
        ({"type": "Dense", "in_features": 8, "out_features": 3}, (8,), (3,)),
        ({"type": "Conv2D", "in_channels": 2, "out_channels": 5, "kernel": 3, "padding": 1}, (9, 7, 2), (9, 7, 5)),
        ({"type": "Conv2D", "in_channels": 1, "out_channels": 4, "kernel": 3, "stride": 2}, (9, 9, 1), (4, 4, 4)),
        ({"type": "MaxPool2D", "size": 2}, (7, 6, 3), (3, 3, 3)),
        ({"type": "BatchNorm", "channels": 4}, (5, 5, 4), (5, 5, 4)),
        ({"type": "Flatten"}, (3, 3, 2), (18,)),
        ({"type": "ReLU"}, (4,), (4,)),
        ({"type": "Dropout", "rate": 0.1}, (4, 2), (4, 2)),
    ],
)
@pytest.mark.parametrize("batch", [1, 3])
def test_layer_shapes_agree_with_forward(rng, config, in_shape, out_shape, batch):
    layer = build_layer(config, rng)
    assert layer.output_shape(in_shape) == out_shape
    y = layer.forward(rng.standard_normal((batch,) + in_shape).astype(np.float32), training=True, rng=rng)
    assert y.shape == (batch,) + out_shape
    assert y.dtype == np.float32  # float32 in, float32 out: no silent float64 promotion


def test_unknown_layer_config_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown layer"):
        build_layer({"type": "Attention"})
    with pytest.raises(ValueError, match="Dense needs the field 'out_features'"):
        build_layer({"type": "Dense", "in_features": 3})
    with pytest.raises(ValueError, match="Dense has unknown field 'units'"):
        build_layer({"type": "Dense", "in_features": 3, "out_features": 2, "units": 4})
    with pytest.raises(ValueError, match="Dense.in_features must be an integer"):
        build_layer({"type": "Dense", "in_features": 3.0, "out_features": 2})
    with pytest.raises(ValueError, match="Dropout.rate must be a number"):
        build_layer({"type": "Dropout", "rate": float("nan")})


def test_conv2d_empty_batch_gives_an_empty_result_and_no_gradient(rng):
    layer = Conv2D(2, 3, 3, 1, 1, rng=rng)
    y = layer.forward(np.zeros((0, 5, 5, 2), np.float32), training=True)
    assert y.shape == (0, 5, 5, 3)
    dx = layer.backward(y)
    assert dx.shape == (0, 5, 5, 2)
    assert not layer.grads["W"].any() and not layer.grads["b"].any()


def test_batchnorm_refuses_to_train_on_an_empty_batch():
    with pytest.raises(ValueError, match="empty batch"):
        BatchNorm(3).forward(np.zeros((0, 3), np.float32), training=True)


def test_conv2d_input_smaller_than_its_kernel_is_a_clear_error():
    with pytest.raises(ValueError, match="smaller than its 5x5 kernel"):
        Conv2D(1, 2, kernel=5).output_shape((3, 3, 1))


def test_conv2d_can_be_deep_copied_and_pickled(rng):
    import copy
    import pickle

    layer = Conv2D(2, 3, 3, 1, 1, rng=rng)
    x = rng.standard_normal((2, 4, 4, 2)).astype(np.float32)
    expected = layer.forward(x)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        np.testing.assert_array_equal(clone.forward(x), expected)


def test_maxpool_gradient_is_float_for_integer_images():
    layer = MaxPool2D(2)
    x = np.arange(16).reshape(1, 4, 4, 1)
    y = layer.forward(x, training=True)
    dx = layer.backward(np.ones(y.shape, np.float32))
    assert dx.dtype.kind == "f" and dx.sum() == y.size


@pytest.mark.parametrize("k, stride, pad", [(3, 1, 1), (3, 2, 0), (5, 2, 2), (1, 1, 0)])
def test_one_channel_training_patches_equal_im2col(rng, k, stride, pad):
    from engine.layers.im2col import im2col, single_channel_patches

    x = rng.standard_normal((3, 9, 8, 1)).astype(np.float32)
    expected = im2col(x, k, stride, pad).reshape(-1, k * k)
    np.testing.assert_array_equal(single_channel_patches(x, k, stride, pad, {}), expected)


def _training_outputs(model, x, dy):
    """One training step's bits: the output of a forward pass in training mode on ``x``, then every
    parameter's gradient after the backward pass of ``dy`` (copies)."""
    out = model.forward(x, training=True)
    model.backward(dy)
    return [out] + [g.copy() for _, _, g in model.parameters()]


def test_batchnorm_applies_the_relu_after_it_with_the_same_bits(rng):
    """Sequential fuses BatchNorm + ReLU in training; unfused, the two layers give the same bits."""
    from engine.model import Sequential

    config = {
        "input_shape": [6, 6, 2],
        "layers": [
            {"type": "Conv2D", "in_channels": 2, "out_channels": 3, "padding": 1},
            {"type": "BatchNorm", "channels": 3},
            {"type": "ReLU"},
            {"type": "Flatten"},
            {"type": "Dense", "in_features": 108, "out_features": 4},
        ],
    }
    x = rng.standard_normal((5, 6, 6, 2)).astype(np.float32)
    dy = rng.standard_normal((5, 4)).astype(np.float32)
    runs = []
    for fused in (True, False):
        model = Sequential.from_config(config, np.random.default_rng(0))
        assert model.layers[1].relu_after and model.layers[2].fused_into_previous
        model.layers[1].relu_after = model.layers[2].fused_into_previous = fused
        runs.append(_training_outputs(model, x, dy))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_a_maxpool_after_batchnorm_relu_applies_the_relu_mask_with_the_same_bits(rng):
    """BatchNorm -> ReLU -> MaxPool2D: the pool sends nothing to windows whose maximum is 0 and the
    BatchNorm skips the ReLU's mask; with neither shortcut, the same bits. Channel 0's beta is very
    negative, so most of its windows are all zeros (where tied zeros would share the gradient)."""
    from engine.model import Sequential

    config = {
        "input_shape": [6, 7, 2],
        "layers": [
            {"type": "Conv2D", "in_channels": 2, "out_channels": 3, "padding": 1},
            {"type": "BatchNorm", "channels": 3},
            {"type": "ReLU"},
            {"type": "MaxPool2D", "size": 2},
            {"type": "Flatten"},
            {"type": "Dense", "in_features": 27, "out_features": 4},
        ],
    }
    x = rng.standard_normal((5, 6, 7, 2)).astype(np.float32)
    dy = rng.standard_normal((5, 4)).astype(np.float32)
    runs = []
    for shortcut in (True, False):
        model = Sequential.from_config(config, np.random.default_rng(0))
        norm, pool = model.layers[1], model.layers[3]
        assert norm.relu_masked_after and pool.after_relu
        norm.relu_masked_after = pool.after_relu = shortcut
        norm.params["beta"][0] = -1.5
        runs.append(_training_outputs(model, x, dy))
    pooled = x  # the pool's output (5, 3, 3, 3) again: its backward let go of it
    for layer in model.layers[:4]:
        pooled = layer.forward(pooled, training=True)
    assert (pooled[..., 0] == 0).sum() > 10
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("padding", [0, 1])
def test_stride_1_input_gradient_is_the_same_as_a_full_convolution_or_by_col2im(rng, monkeypatch, padding):
    """dL/dx by col2im (valid convolutions, whose output is smaller than the input) against the full
    convolution of dL/dy with the flipped kernel (what 'same' convolutions use), to float32 rounding."""
    import engine.layers.conv2d as conv

    assert conv.full_convolution_pays(3, 1, 1) and not conv.full_convolution_pays(3, 1, 0)
    layer = Conv2D(4, 5, 3, 1, padding, rng=rng)
    layer.winograd_allowed = False
    x = rng.standard_normal((3, 7, 7, 4)).astype(np.float32)
    dy = rng.standard_normal((3,) + layer.output_shape((7, 7, 4))).astype(np.float32)
    results = []
    for full in (True, False):
        monkeypatch.setattr(conv, "full_convolution_pays", lambda k, s, p, full=full: full)
        layer.forward(x, training=True)
        results.append(layer.backward(dy))
    np.testing.assert_allclose(results[0], results[1], atol=1e-5 * np.abs(results[0]).max())
