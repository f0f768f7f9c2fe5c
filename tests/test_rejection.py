"""predict(images, reject=True): -1 where the input is not a digit, for 10- and 11-output models."""

import re

import numpy as np
import pytest

import engine
from engine.model import Sequential
from engine.quantize import quantize
from engine.rejection import RejectRule

ELEVEN = {
    "input_shape": [784],
    "reject": {"threshold": 0.5, "min_ink": 0.005},
    "layers": [{"type": "Dense", "in_features": 784, "out_features": 11}],
}


def eleven_output_model(not_a_digit_bias: float) -> Sequential:
    """A model whose "not a digit" output wins by ``not_a_digit_bias`` on every image."""
    model = Sequential.from_config(ELEVEN, np.random.default_rng(0))
    model.layers[0].params["W"][...] = 0
    model.layers[0].params["b"][...] = 0
    model.layers[0].params["b"][3] = 1.0
    model.layers[0].params["b"][10] = not_a_digit_bias
    return model


def test_a_ten_output_model_rejects_unsure_and_empty_inputs(trained_mlp, mnist):
    digits = mnist["test_images"][:500]
    kept = trained_mlp.predict(digits, reject=True)
    assert np.array_equal(kept[kept >= 0], trained_mlp.predict(digits)[kept >= 0])
    assert (kept >= 0).mean() > 0.97
    blank, dot = np.zeros((28, 28), np.uint8), np.zeros((28, 28), np.uint8)
    dot[14, 14] = 255
    assert trained_mlp.predict(np.stack([blank, dot]), reject=True).tolist() == [-1, -1]
    scores = trained_mlp.rejection_scores(digits)
    assert scores.shape == (500,) and scores.dtype == np.float32 and 0 <= scores.min() <= scores.max() <= 1


def test_the_not_a_digit_output_decides_and_predict_proba_keeps_ten_columns(mnist):
    x = mnist["test_images"][:4]
    confident_digit, not_a_digit = eleven_output_model(-5.0), eleven_output_model(5.0)
    assert confident_digit.predict(x, reject=True).tolist() == [3, 3, 3, 3]
    assert not_a_digit.predict(x, reject=True).tolist() == [-1, -1, -1, -1]
    assert not_a_digit.predict(x).tolist() == [3, 3, 3, 3]  # without reject: the best digit
    probs = not_a_digit.predict_proba(x)
    assert probs.shape == (4, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(not_a_digit.rejection_scores(x), 1 / (1 + np.exp(-5.0) * (9 + np.e)), rtol=1e-5)


def test_digit_probabilities_stay_a_distribution_when_not_a_digit_is_certain(mnist):
    """P(not a digit) = 1 in float32 (the digits' share underflows): the digits' own softmax still sums to 1."""
    certain = eleven_output_model(200.0)
    probs = certain.predict_proba(mnist["test_images"][:3])
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)
    assert probs.argmax(axis=1).tolist() == [3, 3, 3] and certain.rejection_scores(mnist["test_images"][:1])[0] == 1


def test_rejected_by_logits_gives_the_verdict_of_predict_with_reject(trained_mlp, mnist):
    x = np.concatenate([mnist["test_images"][:200], np.zeros((3, 28, 28), np.uint8)])
    x[-1, 10:12, :] = 255  # a line: unsure or rejected
    logits = trained_mlp.logits(x.reshape(len(x), -1).astype(np.float32) / 255)
    verdict = trained_mlp.rejected_by_logits(x, logits)
    assert np.array_equal(verdict, trained_mlp.predict(x, reject=True) < 0)
    assert verdict[-3:-1].all() and not verdict.all()
    eleven = eleven_output_model(5.0)
    assert eleven.rejected_by_logits(x[:2], eleven.logits(x[:2].reshape(2, -1) / 255.0)).tolist() == [True, True]
    with pytest.raises(engine.InputShapeError, match="logits"):
        trained_mlp.rejected_by_logits(x[:2], logits[:3])


def test_the_rule_travels_in_float_and_int8_files(tmp_path, mnist):
    model = eleven_output_model(5.0)
    model.reject = model.reject_rule = RejectRule(threshold=0.9999, min_ink=0.0)
    engine.save_model(model, tmp_path / "f.npz", card={})
    loaded = engine.load_model(tmp_path / "f.npz")
    assert loaded.reject_rule == RejectRule(threshold=0.9999, min_ink=0.0)
    x = mnist["test_images"][:3]
    assert loaded.predict(x, reject=True).tolist() == [3, 3, 3]  # 0.993 < 0.9999: kept
    q = quantize(model, mnist["train_images"][:50].astype(np.float32) / 255, inference="dequantized")
    engine.save_model(q, tmp_path / "q.npz", card={})
    assert engine.load_model(tmp_path / "q.npz").reject_rule == model.reject_rule


@pytest.mark.parametrize(
    "rule", [{"threshold": 2}, {"threshold": "high"}, {"min_ink": float("nan")}, {"limit": 0.5}, [0.5]]
)
def test_a_bad_rule_in_a_file_is_a_model_format_error(tmp_path, rule):
    model = eleven_output_model(0.0)
    arrays = {"format_version": np.array(1, np.int64)}
    from engine.npz import json_array

    arch = {"kind": "float32", **model.config(), "reject": rule}
    arrays.update(architecture=json_array(arch), preprocessing=json_array({}), card=json_array({}))
    arrays.update(model.state_arrays())
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(engine.ModelFormatError, match="reject"):
        engine.load_model(tmp_path / "bad.npz")


@pytest.mark.parametrize(
    "config, message",
    [
        ({"threshold": 2.0}, "reject.threshold must be a number in [0.0, 1.0]"),
        ({"treshold": 0.5}, "reject has unknown field 'treshold'"),
    ],
)
def test_a_bad_reject_rule_is_named_as_the_reject_rule(config, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        RejectRule.from_config(config)
