"""A from-scratch neural-network engine in pure NumPy, for handwritten digits.

Scope: everything needed to train MNIST classifiers on a CPU and run them in
CPython or in the browser (Pyodide): layers with hand-written backward passes,
losses, optimizers, schedules, augmentation, training with checkpoints, int8
post-training quantization, a safe model file format, the IDX reader and
MNIST-style preprocessing. Non-goals: GPUs, automatic differentiation, general
tensor programs, arbitrary architectures beyond sequential stacks.

Imports nothing but NumPy and the standard library, so the same files run in
the page.
"""

from . import explain
from .errors import EngineError, IdxFormatError, InputShapeError, ModelFormatError, TrainingDivergedError
from .examples_file import load_examples, save_examples
from .idx import read_idx, write_idx
from .model import Classifier, Sequential
from .model_io import load_model, save_model
from .number_reader import ReadDigit, Reading, read_number
from .personalize import personalize, personalize_steps
from .preprocess import PREPROCESSING, ink_on_dark, preprocess

__version__ = "0.1.0"

__all__ = [
    "load_model",
    "save_model",
    "preprocess",
    "ink_on_dark",
    "read_idx",
    "write_idx",
    "Sequential",
    "Classifier",
    "PREPROCESSING",
    "EngineError",
    "IdxFormatError",
    "ModelFormatError",
    "InputShapeError",
    "TrainingDivergedError",
    "read_number",
    "Reading",
    "ReadDigit",
    "personalize",
    "personalize_steps",
    "load_examples",
    "save_examples",
    "explain",
]
