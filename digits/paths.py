"""Where the application keeps things: the repository's models/, data/ and runs/ folders."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"
SHIPPED_MODEL = MODELS_DIR / "mnist_int8.npz"
RUNS_DIR = ROOT / "runs"


def mnist_cache_dir() -> Path:
    """``$MNIST_DIR``, or data/mnist/ in the repository."""
    return Path(os.environ.get("MNIST_DIR", ROOT / "data" / "mnist"))
