"""engine.personalize_steps: personalize in bounded pieces, the page's way to learn without freezing.

The pieces must add up to personalize's model bit for bit (the page's model is the one the
CPython tests and the Pyodide parity test check), each piece must do a bounded amount of work
(at most FEATURE_CHUNK images through the frozen layers, at most BATCHES_PER_STEP head updates),
progress must count up to its total, and bad arguments must fail at the call, before any piece.
"""

import numpy as np
import pytest

import engine
from engine import fixed_order
from engine.personalize import BATCHES_PER_STEP, FEATURE_CHUNK, Progress
from shipped_model import SHIPPED_MODEL
from stroke_files import STYLES_DIR, inputs, load_style

EXAMPLES = 12


@pytest.fixture(scope="module")
def shipped():
    return engine.load_model(SHIPPED_MODEL)


@pytest.fixture(scope="module")
def examples():
    """A writer's flagged 1s and crossed 7s, as the pad renders them: (x (12, 28, 28), y (12,))."""
    samples = load_style(STYLES_DIR / "1-long-flag.json")[:6] + load_style(STYLES_DIR / "7-crossbar.json")[:6]
    return inputs(samples), np.array([s.label for s in samples], np.int64)


def run_all(steps) -> tuple[list[Progress], object]:
    seen = []
    while True:
        try:
            seen.append(next(steps))
        except StopIteration as finished:
            return seen, finished.value


def test_pieces_add_up_to_personalize_bit_for_bit(shipped, examples):
    x, y = examples
    whole = engine.personalize(shipped, x, y, rng=np.random.default_rng(3), replay_count=120)
    seen, stepped = run_all(engine.personalize_steps(shipped, x, y, rng=np.random.default_rng(3), replay_count=120))
    assert stepped.architecture == whole.architecture
    assert all(np.array_equal(stepped.arrays[k], v) for k, v in whole.arrays.items())
    assert [p.done for p in seen] == sorted(p.done for p in seen) and seen[-1].done == seen[-1].total
    assert {p.stage for p in seen} == {"preparing", "features", "training", "quantizing"}
    assert len(seen) > 10  # really in pieces


def test_chunked_frozen_layers_give_the_whole_batch_bits(shipped, examples):
    """The one thing the pieces change: the frozen layers see FEATURE_CHUNK images at a time."""
    x, _ = examples
    x = np.concatenate([x, x[::-1], x]).reshape((-1,) + shipped.input_shape)  # 36 images: chunks of 8 and a rest
    whole = x
    for layer in shipped.layers[:-1]:
        whole = layer.forward(whole)
    parts = []
    for a in range(0, len(x), FEATURE_CHUNK):
        h = x[a : a + FEATURE_CHUNK]
        for layer in shipped.layers[:-1]:
            h = layer.forward(h)
        parts.append(h)
    assert np.array_equal(np.concatenate(parts), whole)


def test_each_piece_is_bounded(shipped, examples, monkeypatch):
    """Between two yields: at most FEATURE_CHUNK images through any frozen layer, at most
    BATCHES_PER_STEP head updates (dense_backward calls), and never both."""
    x, y = examples
    work = {"images": 0, "updates": 0}
    first = shipped.layers[0]
    forward = type(first).forward

    def counting_forward(self, h, *args, **kwargs):
        if self is first:
            work["images"] = max(work["images"], len(h))
        return forward(self, h, *args, **kwargs)

    backward = fixed_order.dense_backward

    def counting_backward(*args):
        work["updates"] += 1
        return backward(*args)

    monkeypatch.setattr(type(first), "forward", counting_forward)
    monkeypatch.setattr(fixed_order, "dense_backward", counting_backward)
    opts = {"replay_count": 120, "early_stop": False, "batch_size": 16}  # 12 updates an epoch: several pieces
    steps = engine.personalize_steps(shipped, x, y, rng=np.random.default_rng(3), **opts)
    pieces = 0
    for progress in steps:
        pieces += 1
        assert work["images"] <= FEATURE_CHUNK and work["updates"] <= BATCHES_PER_STEP, (progress, work)
        assert not (work["images"] and work["updates"]), (progress, work)
        work["images"] = work["updates"] = 0
    assert pieces >= (EXAMPLES * 5 + 120) // FEATURE_CHUNK


def test_bad_arguments_fail_at_the_call(shipped, examples):
    x, y = examples
    with pytest.raises(engine.InputShapeError, match="labels"):
        engine.personalize_steps(shipped, x, y[:-1])
    with pytest.raises(TypeError, match="unknown option"):
        engine.personalize_steps(shipped, x, y, epochz=3)


def test_cancelling_leaves_the_model_alone(shipped, examples):
    x, y = examples
    before = {k: v.copy() for k, v in shipped.arrays.items()}
    steps = engine.personalize_steps(shipped, x, y, rng=np.random.default_rng(3), replay_count=120)
    for _ in range(30):
        next(steps)
    steps.close()  # the page just stops calling it; closing is the same
    assert all(np.array_equal(shipped.arrays[k], v) for k, v in before.items())
