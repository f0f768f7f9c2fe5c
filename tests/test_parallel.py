"""The engine's threads: same bits for any thread count, errors surface, order kept."""

import os
import signal
import threading
import time

import numpy as np
import pytest

from digits.cpu_runtime import engine_threads
from engine import parallel
from engine.architectures import cnn_config, mlp_config
from engine.layers import BatchNorm, Dense, MaxPool2D, ReLU
from engine.losses import softmax_cross_entropy
from engine.model import Sequential
from engine.optimizers import AdamW
from gradcheck import check_layer_gradients


def train_steps(config: dict, threads: int, batch: int, steps: int = 2) -> dict:
    rng = np.random.default_rng(7)
    model = Sequential.from_config(config, np.random.default_rng(3))
    opt = AdamW(model.parameters(), weight_decay=5e-4)
    with engine_threads(threads) as used:
        assert used == threads
        for _ in range(steps):
            x = rng.random((batch,) + model.input_shape, dtype=np.float32)
            logits = model.forward(x, training=True, rng=rng)
            _, dlogits = softmax_cross_entropy(logits, rng.integers(0, 10, batch))
            model.backward(dlogits)
            opt.step(1e-3)
    state = model.state_arrays()
    state.update({f"grad/{key}": g.copy() for key, _, g in model.parameters()})
    state.update({f"opt/{k}": v for k, v in opt.state_dict().items()})
    return state


@pytest.mark.parametrize("config, batch", [(cnn_config(), 24), (mlp_config(), 200)], ids=["cnn", "mlp"])
def test_training_gives_the_same_bits_on_one_or_two_threads(config, batch):
    # Batches big enough that every layer splits its work (24 images are 6 conv chunks at 28x28).
    serial, threaded = train_steps(config, 1, batch), train_steps(config, 2, batch)
    assert serial.keys() == threaded.keys()
    for key in serial:
        assert np.array_equal(serial[key], threaded[key]), key
    assert parallel.num_threads() == 1  # the context manager restored the default


def test_map_spans_keeps_the_order_of_the_pieces():
    pieces = parallel.spans(103, 10)
    with engine_threads(2):
        assert parallel.map_spans(lambda a, b: (a, b), pieces) == pieces


def test_an_error_in_a_worker_thread_reaches_the_caller():
    def fail_late(a, b):
        if a >= 90:
            raise ValueError(f"bad piece {a}")
        return a

    with engine_threads(2), pytest.raises(ValueError, match="bad piece 90"):
        parallel.map_spans(fail_late, parallel.spans(100, 10))


def test_a_map_started_inside_a_task_runs_serially_instead_of_waiting_for_busy_workers():
    def outer(a, b):
        return parallel.map_spans(lambda c, d: d - c, [(a, b), (b, b + 3)])

    with engine_threads(2):
        assert parallel.map_spans(outer, [(0, 2), (2, 7)]) == [[2, 3], [5, 3]]
        assert parallel.run_all([lambda: 1, lambda: 2, lambda: 3]) == [1, 2, 3]  # the workers are free again


def test_the_workers_keep_working_after_a_task_failed():
    with engine_threads(2):
        with pytest.raises(ZeroDivisionError):
            parallel.run_all([lambda: 1, lambda: 1 / 0, lambda: 3])
        assert parallel.run_all([lambda: "a", lambda: "b"]) == ["a", "b"]


def test_gemm_blocks_cover_the_product_give_the_caller_the_biggest_and_ignore_the_thread_setting(monkeypatch):
    monkeypatch.setattr(parallel, "MACHINE_CORES", 2)
    blocks = {threads: None for threads in (1, 2, 3)}
    for threads in blocks:
        with engine_threads(threads):
            blocks[threads] = parallel.gemm_spans(512, 10**9)
    assert blocks[1] == blocks[2] == blocks[3]
    (a, b), (c, d) = blocks[1]
    assert (a, d, b) == (0, 512, c) and b - a > d - c and b % parallel.GEMM_BLOCK_ALIGN == 0
    assert parallel.gemm_spans(512, 10**9, sharing=2) == [(0, 512)]  # two products side by side
    assert parallel.gemm_spans(512, parallel.MIN_GEMM_PIECE_FLOPS) == [(0, 512)]  # too small to split


def test_after_a_ctrl_c_during_a_map_every_worker_finishes_before_the_next_map(monkeypatch):
    def nap(seconds, value):
        return lambda: (time.sleep(seconds), value)[1]

    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("a map hung after Ctrl-C"))
    signal.alarm(20)
    try:
        with engine_threads(3):
            threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
            with pytest.raises(KeyboardInterrupt):
                parallel.run_all([nap(0.1, 0), nap(0.5, 1), nap(0.8, 2)])
            assert parallel.run_all([nap(0.3, "a"), nap(0.3, "b"), nap(0.3, "c")]) == ["a", "b", "c"]
            # A Ctrl-C that lands just after the wait for a worker has succeeded.
            worker = parallel._workers[0]

            class LateInterrupt:
                def __init__(self, lock):
                    self.lock, self.fired = lock, False

                def acquire(self, *args):
                    got = self.lock.acquire(*args)
                    if not self.fired:
                        self.fired = True
                        raise KeyboardInterrupt
                    return got

                def release(self):
                    self.lock.release()

            monkeypatch.setattr(worker, "_done", LateInterrupt(worker._done))
            with pytest.raises(KeyboardInterrupt):
                parallel.run_all([nap(0.01, 0), nap(0.3, 1)])  # the caller waits for the worker's long task
            assert parallel.run_all([nap(0.05, "x"), nap(0.05, "y")]) == ["x", "y"]
    finally:
        signal.alarm(0)


def test_thread_count_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        parallel.set_num_threads(0)


@pytest.mark.parametrize(
    "make_layer, shape",
    [
        (lambda: BatchNorm(3), (6, 4, 4, 3)),
        (lambda: BatchNorm(5), (9, 5)),
        (lambda: ReLU(), (6, 3, 3, 2)),
        (lambda: MaxPool2D(2), (5, 5, 4, 2)),
        (lambda: Dense(4, 7, rng=np.random.default_rng(0)), (9, 4)),
    ],
    ids=["batchnorm-conv", "batchnorm-dense", "relu", "maxpool", "dense"],
)
def test_gradients_hold_when_tiny_arrays_are_split_between_threads(monkeypatch, make_layer, shape):
    # Shrink every split threshold so small test arrays take the multi-chunk, multi-thread paths.
    monkeypatch.setattr(parallel, "CHUNK_ELEMENTS", 8)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "MIN_GEMM_PIECE_FLOPS", 1)
    monkeypatch.setattr(parallel, "GEMM_BLOCK_ALIGN", 1)
    monkeypatch.setattr(parallel, "MACHINE_CORES", 3)
    rng = np.random.default_rng(5)
    with engine_threads(2):
        check_layer_gradients(make_layer(), rng.standard_normal(shape), rng)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_runs_serially_instead_of_waiting_for_missing_workers():
    with engine_threads(2):
        pid = os.fork()
        if pid == 0:  # child: the parent's worker threads do not exist here
            code = 1
            try:
                signal.alarm(10)  # a hang would end the child with SIGALRM
                ok = parallel.num_threads() == 1 and parallel.map_spans(lambda a, b: b - a, [(0, 2), (2, 5)]) == [2, 3]
                code = 0 if ok else 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
