"""The engine's side of the training benchmarks: its own training step, timed whole or layer by layer."""

import time

import numpy as np

from engine.losses import softmax_cross_entropy
from engine.model import Sequential
from engine.train import TrainConfig, Trainer


def engine_trainer(config, seed=0) -> Trainer:
    """The engine's own training step, with the recipe PyTorch gets: AdamW, weight decay 5e-4,
    no label smoothing, no augmentation."""
    model = Sequential.from_config(config, np.random.default_rng(seed))
    return Trainer(
        model, TrainConfig(optimizer="adamw", weight_decay=5e-4, label_smoothing=0.0, augment=False, seed=seed)
    )


def engine_stepper(config, images, labels, batch_size, seed=0):
    trainer = engine_trainer(config, seed)

    def steps(n):
        for _ in range(n):
            idx = trainer.rng.integers(0, len(labels), batch_size)
            trainer.step(images[idx], labels[idx], 1e-3)

    return steps


def step_profile(config, images, labels, batch_size, steps, seed=0) -> dict:
    """Milliseconds per engine step spent in each kind of layer (forward + backward), the loss and
    the optimizer: the profile that says where a step goes. Timed layer by layer, so the total
    is a little above an untimed step."""
    seconds = layer_tally(config, images, labels, batch_size, steps, time.perf_counter, seed)
    return {name: s * 1000 for name, s in seconds.items()}


def layer_tally(config, images, labels, batch_size, steps, counter, seed=0) -> dict:
    """How much ``counter()`` (a clock, or ``parallel.handoff_count``) advances per engine step in
    each kind of layer (forward + backward), the loss and the optimizer, biggest first."""
    trainer = engine_trainer(config, seed)
    model, opt, rng = trainer.model, trainer.optimizer, trainer.rng
    shape = (batch_size, *model.input_shape)
    spent: dict[str, float] = {}

    def clock(name, fn, *args):
        start = counter()
        out = fn(*args)
        spent[name] = spent.get(name, 0.0) + counter() - start
        return out

    for step in range(steps + 1):
        if step == 1:
            spent.clear()  # the first step warms caches and buffers
        idx = rng.integers(0, len(labels), batch_size)
        x = images[idx].reshape(shape)
        for layer in model.layers:
            x = clock(type(layer).__name__, lambda v: layer.forward(v, training=True, rng=rng), x)
        _, d = clock("loss", softmax_cross_entropy, x, labels[idx])
        for layer in reversed(model.layers):
            d = clock(type(layer).__name__, layer.backward, d)
        clock("AdamW", opt.step, 1e-3)
    return {name: total / steps for name, total in sorted(spent.items(), key=lambda kv: -kv[1])}
