"""A new layer is one class: defined here, outside the engine, it trains, saves, loads, validates,
quantizes and is counted by the benchmarks without any other file knowing its name."""

import sys
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.layers import Layer, LayerSpec
from engine.layers import config_fields as fields
from engine.model import Sequential
from engine.npz import array_json, json_array
from engine.quantize import quantize
from engine.train import TrainConfig, Trainer
from gradcheck import check_layer_gradients

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from flops import forward_flops  # noqa: E402


class ToyScale(Layer):
    """y = x * s, one learned scale per feature: the smallest layer with a parameter."""

    def __init__(self, features: int):
        super().__init__()
        self.features = int(features)
        self.params = {"s": np.ones(self.features, np.float32)}
        self.grads = {"s": np.zeros(self.features, np.float32)}

    @classmethod
    def check_config(cls, config):
        fields.only(config, ("features",))
        return {"features": fields.integer(config, "features")}

    @classmethod
    def spec(cls, config, input_shape):
        features = cls.check_config(config)["features"]
        fields.shape_is(input_shape, (features,), "ToyScale")
        return LayerSpec((features,), {"s": ("float32", (features,))})

    def config(self):
        return {"type": "ToyScale", "features": self.features}

    def forward(self, x, training=False, rng=None):
        self._x = x
        return x * self.params["s"]

    def backward(self, dLdy):
        self.grads["s"][...] = (dLdy * self._x).sum(axis=0)
        return dLdy * self.params["s"]


ARCHITECTURE = {
    "input_shape": [784],
    "layers": [
        {"type": "Dense", "in_features": 784, "out_features": 32},
        {"type": "ToyScale", "features": 32},
        {"type": "ReLU"},
        {"type": "Dense", "in_features": 32, "out_features": 10},
    ],
}


def test_toy_layer_gradients():
    rng = np.random.default_rng(0)
    layer = ToyScale(5)
    layer.params["s"] = rng.standard_normal(5).astype(np.float32)
    check_layer_gradients(layer, rng.standard_normal((4, 5)), rng)


@pytest.fixture(scope="module")
def trained(mnist):
    model = Sequential.from_config(ARCHITECTURE, np.random.default_rng(0))
    x, y = mnist["train_images"][:512].astype(np.float32) / 255, mnist["train_labels"][:512].astype(np.int64)
    Trainer(model, TrainConfig(epochs=1, batch_size=64, augment=False)).fit(x, y, x[:64], y[:64])
    return model


def test_toy_layer_trains(trained):
    assert not np.array_equal(trained.layers[1].params["s"], np.ones(32, np.float32))


def test_toy_layer_round_trips_through_a_validated_model_file(tmp_path, trained, mnist):
    path = tmp_path / "toy.npz"
    engine.save_model(trained, path, card={})
    loaded = engine.load_model(path)
    assert type(loaded.layers[1]) is ToyScale
    x = mnist["test_images"][:50]
    np.testing.assert_array_equal(loaded.predict_proba(x), trained.predict_proba(x))

    # The file is validated by the toy's own spec: a scale of the wrong length is refused before loading.
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["1.s"] = np.ones(31, np.float32)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(engine.ModelFormatError, match="'1.s'.*float32\\(32,\\)"):
        engine.load_model(tmp_path / "bad.npz")
    arch = array_json(arrays["architecture"])
    arch["layers"][1]["features"] = True
    arrays.update({"architecture": json_array(arch), "1.s": np.ones(32, np.float32)})
    np.savez(tmp_path / "bad2.npz", **arrays)
    with pytest.raises(engine.ModelFormatError, match="ToyScale.features must be an integer"):
        engine.load_model(tmp_path / "bad2.npz")


def test_toy_layer_runs_as_it_is_in_an_int8_model(tmp_path, trained, mnist):
    q = quantize(trained, mnist["train_images"][:200].astype(np.float32) / 255)
    assert type(q.layers[1]) is ToyScale and "1.s" in q.arrays
    engine.save_model(q, tmp_path / "toy_int8.npz", card={})
    loaded = engine.load_model(tmp_path / "toy_int8.npz")
    x = mnist["test_images"][:200]
    np.testing.assert_array_equal(loaded.predict_proba(x), q.predict_proba(x))
    assert (loaded.predict(x) == trained.predict(x)).mean() > 0.95


def test_the_benchmarks_count_it_from_its_spec():
    without = {**ARCHITECTURE, "layers": [c for c in ARCHITECTURE["layers"] if c["type"] != "ToyScale"]}
    assert forward_flops(ARCHITECTURE) == forward_flops(without) == [2 * 784 * 32, 2 * 32 * 10]
