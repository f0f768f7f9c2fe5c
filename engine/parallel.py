"""Run the chunks of a batch on several threads.

NumPy releases the GIL inside its loops, copies and BLAS calls, so plain
threads working on separate slices of a batch use several cores at once. That
covers everything, not only matrix products: im2col copies, BatchNorm,
activations, pooling and the optimizer, which NumPy would otherwise run on
one core while BLAS keeps its own threads for the GEMMs alone.

Determinism: work is cut into chunks whose size never depends on the thread
count (matrix products into one block per core of the machine), and reductions
add per-chunk partial results in chunk order. So a model trains to the same
bits with 1 thread or 2 (with BLAS on one thread); Pyodide, which has no
threads, runs the same chunks one after another.

Hand-offs are costly on a VM (waking a sleeping thread took 15-50 µs here, and
threads that both run small NumPy calls wait on each other for the GIL), so
work is handed to the threads in few, large tasks: a whole block of a matrix
product, not one small element-wise operation at a time.

The default is 1 thread (a plain loop, with BLAS threading its GEMMs as
usual). A CPython caller that turns threads on should also limit BLAS to one
thread, or the two kinds of threads compete for the cores: see
the application's CPU settings (threadpoolctl), which the engine cannot import.
"""

import os
import threading
from collections.abc import Callable
from functools import partial

import numpy as np

from .runtime import available_cores, in_pyodide

# Slices smaller than this are not worth a thread hand-off (~15 µs).
MIN_PARALLEL_ELEMENTS = 1 << 16
# Rows per reduction chunk hold about this many elements (1 MB of float32): big
# enough that NumPy's per-call overhead vanishes, small enough to stay in cache.
CHUNK_ELEMENTS = 1 << 18
# A matrix product is split between threads only into pieces of at least this many
# flops (about 0.1 ms of one core), and at multiples of this many rows or columns.
MIN_GEMM_PIECE_FLOPS = 10_000_000
GEMM_BLOCK_ALIGN = 16
FIRST_BLOCK_EXTRA = 0.25  # measured best on a 2-core EPYC VM: F1 644 -> 610 µs, F2 241 -> 209 µs

_threads = 1
_handoffs = 0  # maps handed to worker threads since the process started (see handoff_count)


class _Worker:
    """A thread that runs one job each time it is woken, then says it is done.

    Two plain locks instead of a ``ThreadPoolExecutor``: a hand-off costs one lock
    release each way, about 15 µs round trip against 50 µs for submitting a future,
    and a training step makes dozens of them. Each job carries a ticket number, so
    a Ctrl-C at any point can leave at most a stale "done" behind, never a wrong one.
    """

    def __init__(self, name: str):
        self._wake, self._done = threading.Lock(), threading.Lock()
        self._wake.acquire()
        self._done.acquire()
        self._order: tuple[int, Callable[[], None] | None] = (0, None)  # (ticket, job), replaced in one assignment
        self._finished = 0  # ticket of the last job that ended
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def _loop(self) -> None:
        while True:
            self._wake.acquire()
            ticket, job = self._order
            assert job is not None  # start() sets the job before it wakes this thread
            job()  # jobs catch their own errors: see _run_on_workers
            self._finished = ticket
            _release(self._done)

    def start(self, job) -> None:
        self._order = (self._order[0] + 1, job)
        _release(self._wake)

    def join(self) -> BaseException | None:
        """Wait until the last job started has ended; a Ctrl-C meanwhile is returned, not raised,
        so the caller can wait for its other workers too."""
        interrupted = None
        while self._finished != self._order[0]:
            try:
                self._done.acquire()
            except BaseException as exc:  # the job still runs: never leave it half-done
                interrupted = exc
        return interrupted


def _release(lock) -> None:
    """Release ``lock`` unless it already is: a wake-up or a "done" is pending either way."""
    try:
        lock.release()
    except RuntimeError:
        pass


_workers: list[_Worker] = []  # the threads besides the calling one; only ever grows
_busy = threading.Lock()  # held while the workers run a map; nested or concurrent maps run serially


def _forget_pool_after_fork() -> None:
    """A forked child has none of the parent's worker threads: start it serial, not waiting forever."""
    global _threads, _workers, _busy
    _threads, _workers, _busy = 1, [], threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def threads_available() -> bool:
    return not in_pyodide()  # Pyodide's Python cannot start threads


# Matrix products are cut into one block per core of the machine, whatever the thread setting.
MACHINE_CORES = available_cores()


def set_num_threads(n: int) -> int:
    """Use ``n`` threads for the engine's batch work (1 = serial); returns the previous count.

    The workers only ever grow in number, so switching back and forth keeps their
    threads (and their warm scratch buffers) alive.
    """
    global _threads
    n = int(n)
    if n < 1:
        raise ValueError(f"thread count must be at least 1, got {n}")
    if not threads_available():
        n = 1
    previous = _threads
    while len(_workers) < n - 1:
        _workers.append(_Worker(f"engine-{len(_workers) + 1}"))
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


def gemm_spans(size: int, flops: int, sharing: int = 1) -> list[tuple[int, int]]:
    """Blocks of one dimension (``size`` rows or columns) of a matrix product of ``flops``.

    Each block is its own BLAS call. There is one block per core of the machine,
    fewer when ``sharing`` products run side by side or when blocks would fall below
    MIN_GEMM_PIECE_FLOPS. The count depends on the machine, never on the thread
    setting, so each output element is computed the same way at any thread count.
    The first block is the calling thread's: it starts at once, while a woken worker
    starts some 20-40 µs later and takes as long again to report back, so it is
    made bigger by FIRST_BLOCK_EXTRA (on 2 cores: 56% of the work, not 50%).
    """
    count = max(1, min(MACHINE_CORES // max(1, sharing), flops // MIN_GEMM_PIECE_FLOPS, size))
    if count == 1:
        return [(0, size)]
    unit = size / (count + FIRST_BLOCK_EXTRA)
    cuts = (
        [0]
        + [
            min(size, round((k + FIRST_BLOCK_EXTRA) * unit / GEMM_BLOCK_ALIGN) * GEMM_BLOCK_ALIGN)
            for k in range(1, count)
        ]
        + [size]
    )
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def map_spans(fn, pieces: list[tuple[int, int]]) -> list:
    """``[fn(a, b) for (a, b) in pieces]``, spread over the threads; results in the order of ``pieces``."""
    if len(pieces) == 1:  # the common case of a small layer: a plain call
        return [fn(*pieces[0])]
    if _threads == 1:
        return [fn(a, b) for a, b in pieces]
    return run_all([partial(fn, a, b) for a, b in pieces])


def run_all(tasks: list) -> list:
    """``[task() for task in tasks]``, spread over the threads; results in the order of ``tasks``.

    Threads take the next task as they become free. The calling thread takes the
    first task before any worker has woken up, so callers put their biggest first.
    A core slowed by another process does not hold the others back. Which thread
    ran a task never matters: results are kept by task, in order. If a task raises,
    no new tasks are started and the first error is raised here once every thread
    has stopped.
    """
    global _handoffs
    workers = min(_threads, len(tasks))
    if workers <= 1 or not _busy.acquire(blocking=False):
        return [task() for task in tasks]
    _handoffs += 1
    try:
        return _run_on_workers(tasks, _workers[: workers - 1])
    finally:
        _busy.release()


def _run_on_workers(tasks, helpers):
    results = [None] * len(tasks)
    next_task = iter(range(len(tasks)))
    lock = threading.Lock()
    failed: list[BaseException] = []

    def work():
        try:
            while not failed:
                with lock:
                    i = next(next_task, None)
                if i is None:
                    return
                results[i] = tasks[i]()
        except BaseException as exc:  # Ctrl-C included: stop handing out tasks, report after the join
            failed.append(exc)

    try:
        for helper in helpers:
            helper.start(work)
        work()
    except BaseException as exc:  # e.g. Ctrl-C between tasks: the workers take no new ones
        failed.append(exc)
    interrupted = [helper.join() for helper in helpers]
    if failed:
        raise failed[0]
    for interruption in interrupted:
        if interruption is not None:
            raise interruption
    return results


def handoff_count() -> int:
    """How many times the calling thread has woken the workers so far: benchmarks count a step's
    hand-offs as the difference before and after it."""
    return _handoffs


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
