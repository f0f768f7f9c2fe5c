"""The fastest a dense net's training step could be with the engine's division of labour.

Its 1-thread, layer-by-layer profile with the work the engine splits divided between
the threads and hand-offs free; beside it the measured cost of one hand-off, how many
a step makes, and the operating system's own wake-up round trip.
"""

import os
import subprocess
import sys

import numpy as np

from common import threads, timed

from digits.cpu_runtime import engine_threads
from engine import parallel
from engine.parallel import map_spans
from engine_steps import engine_stepper, layer_tally, step_profile


def split_kinds(config, images, labels, batch_size) -> list[str]:
    """The kinds of layer (and the optimizer) that hand work to the threads in this step, measured:
    in a dense net at batch 128 that is the products and AdamW; BatchNorm, ReLU, Dropout and the
    loss are too small to split and run on the calling thread."""
    with engine_threads(threads()):
        handoffs = layer_tally(config, images, labels, batch_size, 2, parallel.handoff_count)
    return [kind for kind, count in handoffs.items() if count > 0]


def split_floor(config, images, labels, batch_size, steps, flops, gemm_gflops) -> dict:
    """The fastest a dense net's step could be with this engine's division of labour: its 1-thread
    profile with the split work divided by the thread count and hand-offs free. Beside it, what
    one hand-off (waking a worker for an empty task and hearing back) costs in this run, how many
    a step makes, and the operating system's own wake-up round trip for comparison."""
    kinds = split_kinds(config, images, labels, batch_size)
    with engine_threads(1):
        profile = step_profile(config, images, labels, batch_size, steps)
    split = sum(ms for kind, ms in profile.items() if kind in kinds)
    serial = sum(profile.values()) - split
    floor_ms = serial + split / threads()
    with engine_threads(threads()):
        handoff_us = (
            float(np.median(timed(lambda: map_spans(lambda a, b: None, [(0, 1), (1, 2)]), 2000, warmup=50))) * 1e6
        )
        handoffs = handoffs_per_step(config, images, labels, batch_size)
    with_handoffs_ms = floor_ms + handoffs * handoff_us / 1000
    return {
        "one_thread_ms": sum(profile.values()),
        "split_kinds": kinds,
        "split_ms": split,
        "serial_ms": serial,
        "floor_ms": floor_ms,
        "floor_efficiency": flops / (floor_ms / 1000) / 1e9 / gemm_gflops,
        "handoff_us": handoff_us,
        "handoffs_per_step": handoffs,
        "os_round_trip_us": os_round_trip_us(),
        "floor_with_handoffs_ms": with_handoffs_ms,
        "floor_with_handoffs_efficiency": flops / (with_handoffs_ms / 1000) / 1e9 / gemm_gflops,
    }


def handoffs_per_step(config, images, labels, batch_size, steps=5) -> float:
    """Times per training step that the engine wakes its workers, counted at the one place it does."""
    run = engine_stepper(config, images, labels, batch_size)
    run(1)
    before = parallel.handoff_count()
    run(steps)
    return (parallel.handoff_count() - before) / steps


# A child that answers every byte on stdin with one on stdout, until stdin closes.
_ECHO = "import os\nwhile os.read(0, 1):\n    os.write(1, b'.')"


def os_round_trip_us(repeats: int = 2000) -> float:
    """Median µs for one byte to reach another process through a pipe and come back: the
    machine's own cost of waking a sleeping thread on another core and hearing back, with no
    Python lock or GIL in the way. A thread hand-off cannot be much cheaper than this."""
    child = subprocess.Popen([sys.executable, "-c", _ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    to_child, from_child = child.stdin.fileno(), child.stdout.fileno()

    def round_trip():
        os.write(to_child, b".")
        os.read(from_child, 1)

    try:
        return float(np.median(timed(round_trip, repeats, warmup=50))) * 1e6
    finally:
        child.stdin.close()
        child.wait(timeout=10)
        child.stdout.close()
