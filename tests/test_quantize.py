"""Int8 quantization: folding, per-channel weights, both inference paths, the file round trip."""

import numpy as np
import pytest

import engine
from engine.architectures import cnn_config
from engine.layers import QuantizedConv2D, QuantizedDense
from engine.model import Sequential
from engine.quantize import EXACT_FLOAT32_TERMS, fold_batchnorm, quantize, quantize_weights


def test_weights_are_symmetric_per_output_channel():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 3, 4, 5)).astype(np.float32) * np.array([1, 10, 0.1, 5, 0.01], np.float32)
    w[..., 4] = 0  # a dead channel must not produce a zero scale
    q, scale = quantize_weights(w)
    assert q.dtype == np.int8 and q.min() >= -127 and q.max() <= 127
    assert scale.shape == (5,) and np.all(scale > 0)
    assert np.all(np.abs(q[..., :4]).reshape(-1, 4).max(axis=0) == 127)
    np.testing.assert_allclose(q * scale, w, atol=float(scale.max()) / 2 + 1e-7)


def test_batchnorm_folding_preserves_the_function(mnist):
    rng = np.random.default_rng(1)
    model = Sequential.from_config(cnn_config(), rng)
    x = mnist["train_images"][:64].astype(np.float32).reshape(-1, 28, 28, 1) / 255
    model.forward(x, training=True, rng=rng)  # non-trivial running statistics
    for layer in model.layers:
        if "gamma" in layer.params:
            layer.params["gamma"][:] = rng.uniform(0.5, 1.5, layer.channels)
            layer.params["beta"][:] = rng.normal(0, 0.3, layer.channels)
    folded = fold_batchnorm(model)
    assert not any(type(layer).__name__ in ("BatchNorm", "Dropout") for layer in folded.layers)
    np.testing.assert_allclose(folded.logits(x), model.logits(x), rtol=1e-4, atol=1e-4)


def unit_int8_dense(w_q: np.ndarray) -> QuantizedDense:
    """A QuantizedDense whose scales are all 1, so its output is its integer accumulator."""
    layer = QuantizedDense.from_config({"type": "Dense", "in_features": w_q.shape[0], "out_features": w_q.shape[1]})
    layer.load_arrays(
        {
            "W": w_q,
            "W_scale": np.ones(w_q.shape[1], np.float32),
            "b": np.zeros(w_q.shape[1], np.float32),
            "x_scale": np.array(1.0, np.float32),
        }
    )
    return layer


@pytest.mark.parametrize("packed", [False, True])
def test_int8_layer_accumulates_exactly_like_int64(monkeypatch, packed):
    """The int8 path of a Dense, on the longest dot products it accepts and the largest values, equals
    an exact integer accumulation: the float32 GEMM on integers (CPython) and the packed product (browser)."""
    import engine.int8_gemm as int8_gemm

    monkeypatch.setattr(int8_gemm, "PACKED_GEMM", packed)
    rng = np.random.default_rng(2)
    k = EXACT_FLOAT32_TERMS
    a = rng.integers(-127, 128, (50, k))
    a[0], a[1] = 127, -127
    w = np.full((k, 3), 127, np.int8)
    w[:, 1] = rng.integers(-127, 128, k)
    w[:, 2] = -127
    layer = unit_int8_dense(w)
    assert (layer.w_packed is not None) == packed
    out = layer.forward(a.astype(np.float32))
    assert np.array_equal(out.astype(np.int64), a @ w.astype(np.int64))


def test_int8_layer_refuses_dot_products_float32_cannot_hold_exactly():
    with pytest.raises(ValueError, match="1041 terms per output exceed the 1040"):
        unit_int8_dense(np.ones((EXACT_FLOAT32_TERMS + 1, 2), np.int8))


@pytest.mark.parametrize("method", ["max", "percentile"])
@pytest.mark.parametrize("mode", ["int8", "dequantized"])
def test_quantized_mlp_agrees_with_float(tmp_path, trained_mlp, mnist, method, mode):
    calibration = mnist["train_images"][:500].astype(np.float32) / 255
    q = quantize(trained_mlp, calibration, method, inference=mode)
    path = tmp_path / "q.npz"
    engine.save_model(q, path)
    loaded = engine.load_model(path)
    assert type(loaded).__name__ == "QuantizedModel" and loaded.inference == mode
    x = mnist["test_images"]
    float_pred = trained_mlp.predict(x)
    agreement = (loaded.predict(x) == float_pred).mean()
    assert agreement >= 0.998, f"{method}/{mode}: int8 agrees with float on {agreement:.4f}"
    np.testing.assert_array_equal(loaded.predict_proba(x[:100]), q.predict_proba(x[:100]))
    assert path.stat().st_size < 0.35 * 4 * trained_mlp.count_params()  # int8: about a quarter of float32


def test_quantizing_an_untrained_cnn_keeps_shapes_and_probabilities(mnist):
    model = Sequential.from_config(cnn_config(), np.random.default_rng(0))
    q = quantize(model, mnist["train_images"][:64].astype(np.float32) / 255)
    p = q.predict_proba(mnist["test_images"][:7])
    assert p.shape == (7, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)


def test_packed_int8_gemm_is_bit_identical_to_the_blas_path(monkeypatch, mnist):
    """The browser's BLAS-free path (two channels per float64) must give exactly the same probabilities."""
    import engine.int8_gemm as int8_gemm

    x = mnist["test_images"][:64]
    blas = engine.load_model("models/mnist_int8.npz")
    monkeypatch.setattr(int8_gemm, "PACKED_GEMM", True)
    packed = engine.load_model("models/mnist_int8.npz")
    int8_layers = [layer for layer in packed.layers if isinstance(layer, (QuantizedConv2D, QuantizedDense))]
    assert len(int8_layers) == 6 and all(layer.w_packed is not None for layer in int8_layers)
    np.testing.assert_array_equal(packed.predict_proba(x), blas.predict_proba(x))
    np.testing.assert_array_equal(packed.predict_proba(x[3]), blas.predict_proba(x[3]))


@pytest.mark.parametrize("f", [1, 7, 10])
def test_packed_gemm_handles_odd_widths_and_extreme_values(f):
    from engine.int8_gemm import pack_weight_pairs, packed_gemm

    rng = np.random.default_rng(f)
    k = EXACT_FLOAT32_TERMS
    w = rng.integers(-127, 128, (k, f)).astype(np.int8)
    w[:, 0] = -127  # the largest possible accumulators, of both signs
    a = rng.integers(-127, 128, (9, k)).astype(np.float64)
    a[0], a[1] = 127, -127
    out = packed_gemm(a, pack_weight_pairs(w), np.empty((9, f), np.float32))
    assert np.array_equal(out.astype(np.int64), a.astype(np.int64) @ w.astype(np.int64))


def test_unknown_calibration_method_is_refused(trained_mlp, mnist):
    with pytest.raises(ValueError, match="calibration method"):
        quantize(trained_mlp, mnist["train_images"][:10].astype(np.float32) / 255, method="entropy")
