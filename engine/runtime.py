"""Facts about where the engine runs, defined once: the browser (Pyodide) or CPython, and its cores."""

import os
import sys


def in_pyodide() -> bool:
    """True in the browser: Pyodide's Python reports the platform "emscripten" and has no threads
    and no BLAS behind NumPy."""
    return sys.platform == "emscripten"


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
