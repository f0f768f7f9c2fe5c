"""How CPython runs the engine fast on this CPU: its own threads, BLAS on one, memory kept.

Threads: the engine splits each batch between its threads (``engine.parallel``),
matrix products included, so BLAS must run each product on a single thread;
with both kinds of threads on, they fight over the cores and BLAS's idle workers
spin while NumPy works. ``threadpoolctl`` is the maintained way to set BLAS's
thread count after NumPy is loaded; the engine itself cannot import it (it
runs in Pyodide). BLAS stays on one thread even for ``threads=1``: OpenBLAS's
threaded products round differently from its single-threaded ones, and with
BLAS pinned the engine gives the same bits for every thread count.

Memory: a training step allocates and frees tens of megabytes of activations of
many sizes. By default glibc maps large blocks separately and unmaps them when
freed, and trims the top of its heap, adapting those thresholds only as it goes;
much of each step's memory was page-faulted in again, zero-filled: ~20% of a CNN
step on the 2-core benchmark machine (A/B in one process). Fixing glibc's mmap
and trim thresholds high keeps freed blocks in the process for reuse (the
process then holds on to its peak working set, a few hundred MB for the CNN).
"""

import ctypes
import ctypes.util
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

from engine import parallel
from engine.runtime import available_cores

# mallopt parameters from glibc's malloc.h.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
# glibc's ceiling, 4 MB * sizeof(long): 32 MB on 64-bit systems; larger values are refused.
MMAP_THRESHOLD_MAX = 4 * 1024 * 1024 * ctypes.sizeof(ctypes.c_long)
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Tell glibc to reuse freed activation buffers instead of returning them to the kernel.

    Returns False (and changes nothing) where the C library is not glibc.
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


@contextmanager
def engine_threads(count: int | None = None):
    """Run the engine on ``count`` threads (default: every core this process may use), BLAS on one."""
    count = available_cores() if count is None else int(count)
    if count < 1:
        raise ValueError(f"thread count must be at least 1, got {count}")
    with threadpool_limits(limits=1, user_api="blas"):
        previous = parallel.set_num_threads(count)
        try:
            yield parallel.num_threads()
        finally:
            parallel.set_num_threads(previous)


@contextmanager
def cpu_runtime(threads: int | None = None):
    """Both settings above, for a training or benchmark run."""
    keep_freed_memory()
    with engine_threads(threads) as count:
        yield count
