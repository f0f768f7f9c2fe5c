"""Errors raised for bad input files and arguments.

Each is a ``ValueError`` subclass, so callers that only know "bad value" still
catch them, and each message names the file, the field and what to do.
"""


class EngineError(ValueError):
    """Base class for every error the engine raises on purpose."""


class IdxFormatError(EngineError):
    """An IDX file (MNIST's format) is malformed: magic, type code, dimensions or size."""


class ModelFormatError(EngineError):
    """A model or checkpoint file is not one this engine wrote, or was damaged."""


class InputShapeError(EngineError):
    """Images given to a model or to ``preprocess`` have the wrong shape, dtype or values."""


class TrainingDivergedError(EngineError):
    """The training loss became NaN or infinite."""


def describe(exc: BaseException) -> str:
    """ "IndexError: tuple index out of range", or just "MemoryError" when the exception says nothing more."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
