"""Run the chunks of a batch on several threads.

NumPy releases the GIL inside its loops, copies and BLAS calls, so plain
threads working on separate slices of a batch use several cores at once. That
covers everything, not only matrix products: im2col copies, BatchNorm,
activations, pooling and the optimizer, which NumPy would otherwise run on
one core while BLAS keeps its own threads for the GEMMs alone.

Determinism: work is cut into chunks whose size never depends on the thread
count, and reductions add per-chunk partial results in chunk order. So a
model trains to the same bits with 1 thread or 2 (with BLAS on one thread);
Pyodide, which has no threads, runs the same chunks one after another.

The default is 1 thread (a plain loop, with BLAS threading its GEMMs as
usual). A CPython caller that turns threads on should also limit BLAS to one
thread, or the two kinds of threads compete for the cores: see
``cpu_runtime.py``.
"""

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

# Slices smaller than this are not worth a thread hand-off (~20 µs).
MIN_PARALLEL_ELEMENTS = 1 << 16
# Rows per reduction chunk hold about this many elements (1 MB of float32): big
# enough that NumPy's per-call overhead vanishes, small enough to stay in cache.
CHUNK_ELEMENTS = 1 << 18
# Rows and columns per block when a matrix product is split between threads.
GEMM_ROW_BLOCK = 64
GEMM_COLUMN_BLOCK = 128

_threads = 1
_pool: ThreadPoolExecutor | None = None   # the workers besides the calling thread
_pool_size = 0


def _forget_pool_after_fork() -> None:
    """A forked child has none of the parent's worker threads: start it serial, not waiting forever."""
    global _threads, _pool, _pool_size
    _threads, _pool, _pool_size = 1, None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def threads_available() -> bool:
    return sys.platform != "emscripten"  # Pyodide's Python cannot start threads


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def set_num_threads(n: int) -> int:
    """Use ``n`` threads for the engine's batch work (1 = serial); returns the previous count.

    The worker pool only ever grows, so switching back and forth keeps its threads
    (and their warm scratch buffers) alive.
    """
    global _threads, _pool, _pool_size
    n = int(n)
    if n < 1:
        raise ValueError(f"thread count must be at least 1, got {n}")
    if not threads_available():
        n = 1
    previous = _threads
    if n - 1 > _pool_size:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool, _pool_size = ThreadPoolExecutor(n - 1, thread_name_prefix="engine"), n - 1
    _threads = n
    return previous


def num_threads() -> int:
    return _threads


def spans(total: int, size: int) -> list[tuple[int, int]]:
    """[(start, stop)] covering range(total) in pieces of ``size`` (the last may be shorter)."""
    size = max(1, int(size))
    return [(a, min(a + size, total)) for a in range(0, total, size)]


def row_spans(rows: int, elements_per_row: int) -> list[tuple[int, int]]:
    """Fixed-size row chunks for reductions over (rows, elements_per_row) data."""
    return spans(rows, CHUNK_ELEMENTS // max(1, elements_per_row))


def gemm_spans(size: int, columns: bool = False) -> list[tuple[int, int]]:
    """Row or column blocks of a matrix product: each block is its own BLAS call, the
    same whatever the thread count, so every output element is computed the same way."""
    return spans(size, GEMM_COLUMN_BLOCK if columns else GEMM_ROW_BLOCK)


def map_spans(fn, pieces: list[tuple[int, int]]) -> list:
    """``[fn(a, b) for (a, b) in pieces]``, spread over the threads; results in the order of ``pieces``.

    Threads take the next piece as they become free (the calling thread works too),
    so a core slowed by another process does not hold the others back. Which thread
    ran a piece never matters: results are kept by piece, in order. If a piece
    raises, no new pieces are started and the first error is raised here once
    every thread has stopped.
    """
    workers = min(_threads, len(pieces))
    if workers <= 1:
        return [fn(a, b) for a, b in pieces]
    results = [None] * len(pieces)
    next_piece = iter(range(len(pieces)))
    lock = threading.Lock()
    failed = []

    def work():
        try:
            while not failed:
                with lock:
                    i = next(next_piece, None)
                if i is None:
                    return
                results[i] = fn(*pieces[i])
        except BaseException as exc:  # Ctrl-C included: stop handing out pieces, report after the join
            failed.append(exc)

    futures = [_pool.submit(work) for _ in range(workers - 1)]
    work()
    wait(futures)
    if failed:
        raise failed[0]
    return results


def map_rows(fn, rows: int, elements_per_row: int) -> None:
    """Call ``fn(a, b)`` on row ranges that together cover ``rows``.

    For element-wise work, whose result does not depend on how rows are split.
    Up to four ranges per thread, so a thread whose core is busy with something
    else holds the others back less; small arrays run as a single call.
    """
    pieces = 1 if _threads == 1 else max(1, min(4 * _threads, rows, rows * elements_per_row // MIN_PARALLEL_ELEMENTS))
    map_spans(fn, [(rows * w // pieces, rows * (w + 1) // pieces) for w in range(pieces)])


def thread_scratch(store: threading.local) -> dict:
    """The calling thread's own scratch dict in ``store``: threads never share a buffer, and a
    thread's buffers are freed with the thread."""
    try:
        return store.buffers
    except AttributeError:
        store.buffers = {}
        return store.buffers


def sum_in_order(arrays):
    """The sum of per-chunk partial results, always added in the same order."""
    arrays = iter(arrays)
    first = next(arrays, None)
    if first is None:
        raise ValueError("nothing to add: the batch is empty")
    total = np.array(first, copy=True)
    for a in arrays:
        total += a
    return total


def column_sums(rows: np.ndarray) -> np.ndarray:
    """``rows.sum(axis=0)`` for a 2-D array, as a BLAS vector-matrix product: ~15x faster
    on (M, 16) activations, where NumPy's reduction runs an inner loop of 16 elements."""
    return np.ones(rows.shape[0], rows.dtype) @ rows
