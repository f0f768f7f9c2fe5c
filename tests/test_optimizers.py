"""Optimizers on a small convex problem; schedules at their endpoints."""

import numpy as np
import pytest

from engine.architectures import mlp_config
from engine.model import Sequential
from engine.optimizers import SGD, AdamW, make_optimizer
from engine.schedules import Constant, CosineWarmup, OneCycle, make_schedule


def quadratic_problem():
    """f(w) = 0.5 * ||A w - y||^2 with a known minimizer w*."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20, 5)).astype(np.float32)
    w_star = rng.standard_normal(5).astype(np.float32)
    return a, a @ w_star, w_star


@pytest.mark.parametrize("name,lr,steps", [("sgd", 0.01, 400), ("nesterov", 0.01, 300), ("adamw", 0.05, 600)])
def test_optimizer_converges_on_least_squares(name, lr, steps):
    a, y, w_star = quadratic_problem()
    w = np.zeros(5, np.float32)
    g = np.zeros_like(w)
    opt = make_optimizer(name, [("0.b", w, g)])  # ".b": no weight decay, so the optimum is w*
    for _ in range(steps):
        g[...] = a.T @ (a @ w - y)
        opt.step(lr)
    np.testing.assert_allclose(w, w_star, atol=2e-3)


def test_nesterov_is_faster_than_plain_momentum():
    a, y, w_star = quadratic_problem()
    errors = {}
    for nesterov in (False, True):
        w, g = np.zeros(5, np.float32), np.zeros(5, np.float32)
        opt = SGD([("0.b", w, g)], momentum=0.9, nesterov=nesterov)
        for _ in range(60):
            g[...] = a.T @ (a @ w - y)
            opt.step(0.01)
        errors[nesterov] = np.linalg.norm(w - w_star)
    assert errors[True] < errors[False]


def test_adamw_decay_is_decoupled_and_spares_biases():
    w, gw = np.ones(3, np.float32), np.zeros(3, np.float32)
    b, gb = np.ones(3, np.float32), np.zeros(3, np.float32)
    opt = AdamW([("0.W", w, gw), ("0.b", b, gb)], weight_decay=0.1)
    opt.step(0.5)  # zero gradient: only decay acts, and only on W
    np.testing.assert_allclose(w, 1 - 0.5 * 0.1)
    np.testing.assert_allclose(b, 1.0)


def test_optimizer_state_round_trips():
    a, y, _ = quadratic_problem()
    runs = []
    for resume in (False, True):
        w, g = np.zeros(5, np.float32), np.zeros(5, np.float32)
        opt = AdamW([("0.W", w, g)])
        for step in range(20):
            if resume and step == 10:
                state = {k: v.copy() for k, v in opt.state_dict().items()}
                opt = AdamW([("0.W", w, g)])
                opt.load_state_dict(state)
            g[...] = a.T @ (a @ w - y)
            opt.step(0.01)
        runs.append(w.copy())
    assert np.array_equal(runs[0], runs[1])


def adamw_run(params, steps=5):
    opt = AdamW(params, weight_decay=0.1)
    for step in range(steps):
        for _, p, g in params:
            g[...] = np.sin(p * (step + 1))  # any deterministic gradient
        opt.step(0.01)
    return opt


def test_adamw_gives_the_same_bits_on_a_model_buffer_as_on_separate_arrays():
    model = Sequential.from_config(mlp_config())
    separate = [(key, p.copy(), g.copy()) for key, p, g in model.parameters()]
    adamw_run(model.parameters())
    adamw_run(separate)
    for (key, p, _), (_, q, _) in zip(model.parameters(), separate):
        assert np.array_equal(p, q), key


def test_adamw_updates_parameters_that_are_not_contiguous():
    base = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    w, g = base.T, np.zeros((4, 3), np.float32)[:, ::-1]  # a transposed view; a reversed one
    reference = [("0.W", np.ascontiguousarray(w), np.zeros((4, 3), np.float32))]
    adamw_run([("0.W", w, g)])
    adamw_run(reference)
    assert np.array_equal(base.T, reference[0][1])  # the update reached the caller's array


def test_adamw_updates_arrays_over_foreign_buffers_and_float16_parameters():
    over_bytes = np.frombuffer(bytearray(16), np.float32)  # .base is not an ndarray
    half = np.zeros(3, np.float16)
    opt = AdamW([("0.W", over_bytes, np.ones(4, np.float32)), ("1.W", half, np.full(3, 10, np.float16))])
    for _ in range(2000):
        opt.step(1e-3)
    assert np.all(over_bytes < -1.5) and np.all(half < -1.5)  # ~lr per step, every step: no moment overflowed


def test_adamw_reads_plain_moments_from_earlier_checkpoints():
    params = [("0.W", np.ones(3, np.float32), np.zeros(3, np.float32))]
    opt = AdamW(params)
    opt.load_state_dict({"t": np.array(4), "m/0.W": np.full(3, 0.2, np.float32), "v/0.W": np.full(3, 0.3, np.float32)})
    assert opt.t == 4
    np.testing.assert_allclose(opt.state_dict()["m_sum/0.W"], 0.2 / (1 - 0.9), rtol=1e-6)
    np.testing.assert_allclose(opt.state_dict()["v_sum/0.W"], 0.3 / (1 - 0.999), rtol=1e-6)


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs", [])


def test_one_cycle_endpoints():
    s = OneCycle(max_lr=1.0, total_steps=100, pct_start=0.25, div=25, final_div=1e4)
    assert s(0) == pytest.approx(1 / 25)
    assert s(25) == pytest.approx(1.0)
    assert s(99) == pytest.approx(1e-4)
    assert max(s(i) for i in range(100)) == pytest.approx(1.0)
    assert all(s(i) >= s(i + 1) for i in range(25, 99))


def test_cosine_warmup_endpoints():
    s = CosineWarmup(base_lr=0.1, total_steps=50, warmup_steps=5, min_lr=0.001)
    assert s(0) == pytest.approx(0.02)
    assert s(4) == pytest.approx(0.1)
    assert s(49) == pytest.approx(0.001)
    assert Constant(0.3)(1000) == 0.3
    with pytest.raises(ValueError):
        make_schedule("step", 0.1, 10)
