"""Shared pieces of the benchmarks: machine facts, timing, the optional PyTorch reference."""

import json
import os
import platform
import statistics
import sys
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from digits.cpu_runtime import engine_threads  # noqa: E402  (the repository root is on the path from here)
from engine.runtime import available_cores  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "out"


def threads() -> int:
    """Threads for each framework: the engine's own and PyTorch's intra-op threads (one per core unless
    OPENBLAS_NUM_THREADS or OMP_NUM_THREADS says otherwise)."""
    return int(os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or available_cores())


def framework_threads(pytorch: bool, pin_blas: bool = False):
    """The threads a timed run uses: PyTorch its intra-op threads (set in ``load_torch``), with
    NumPy's BLAS pinned to one thread too if ``pin_blas``; the engine its own threads with BLAS
    pinned to one, as ``train_offline.py`` trains."""
    if not pytorch:
        return engine_threads(threads())
    if pin_blas:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="blas")
    return nullcontext()


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    info = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": available_cores(),
        "threads": threads(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
    try:
        info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    info["blas"] = blas_kernel()
    torch = load_torch(quiet=True)
    info["torch"] = torch.__version__ if torch else "not installed"
    return info


def blas_kernel() -> str:
    """NumPy's BLAS and the kernel it runs here, e.g. "OpenBLAS 0.3.31 SkylakeX" (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    names = [
        f"{lib.get('internal_api', '?').replace('openblas', 'OpenBLAS')} {lib.get('version') or ''} "
        f"{lib.get('architecture') or ''}".replace("  ", " ").strip()
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    return ", ".join(names) or "unknown"


def machine_line(info: dict) -> str:
    blas = f" ({info['blas']})" if info.get("blas") else ""  # older saved results lack it
    return (
        f"{info['date']} · {info['cpu']} · {info['cores']} cores, {info['threads']} threads · "
        f"Python {info['python']} · NumPy {info['numpy']}{blas} · PyTorch {info['torch']}"
    )


def load_torch(quiet: bool = False):
    """The torch module, or None with a message saying how to install the benchmark extra."""
    try:
        import torch
    except ImportError:
        if not quiet:
            print(
                "PyTorch is not installed, so the reference columns are skipped. "
                "Install the benchmark extra: pip install -e '.[bench]'  (torch==2.13.0, CPU build)"
            )
        return None
    torch.set_num_threads(threads())
    return torch


def timed(fn, repeats: int, warmup: int = 1) -> list[float]:
    """Wall times in seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def median_spread(samples: list[float]) -> tuple[float, float]:
    """(median, half the min-max range): the spread shows how noisy the shared machine was."""
    return statistics.median(samples), (max(samples) - min(samples)) / 2


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """What NumPy's float32 matrix multiply reaches here: the machine's practical limit."""
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    t = min(timed(lambda: a @ a, repeats))
    return 2 * n**3 / t / 1e9


def save_json(name: str, payload: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    return path
