"""CPython speed settings: BLAS pinned inside the context and restored after; freed memory kept."""

import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

from digits.cpu_runtime import engine_threads
from engine import parallel

ROOT = Path(__file__).resolve().parent.parent


def blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_engine_threads_pin_blas_and_restore_everything():
    before = blas_threads()
    with engine_threads(2) as count:
        assert count == 2 and parallel.num_threads() == 2
        assert blas_threads() and set(blas_threads()) == {1}
    assert blas_threads() == before
    assert parallel.num_threads() == 1


def test_engine_threads_refuse_zero():
    with pytest.raises(ValueError, match="at least 1"):
        with engine_threads(0):
            pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_freed_activation_memory_stays_in_the_process():
    # A fresh interpreter: a 24 MB array is over glibc's default mmap threshold, so
    # by default freeing it hands the pages back (resident memory drops); with
    # keep_freed_memory() the block stays for the next step to reuse.
    script = f"""
import sys, numpy as np
sys.path.insert(0, {str(ROOT)!r})
from digits.cpu_runtime import keep_freed_memory
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
if sys.argv[1] == "keep":
    assert keep_freed_memory()
a = np.ones(6 << 20, np.float32)   # 24 MB, touched
peak = rss()
del a
print(peak - rss())
"""
    dropped = {
        mode: int(
            subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, check=True).stdout
        )
        for mode in ("default", "keep")
    }
    assert dropped["default"] > 16 << 20  # the default gives it back...
    assert dropped["keep"] < 1 << 20  # ...ours keeps it
