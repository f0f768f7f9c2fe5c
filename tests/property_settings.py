"""What every property test file shares: hypothesis settings and a guard against NumPy warnings.

Every property test is derandomized (the same examples on every run, no example database) and
bounded (array sides, declared sizes, example counts), so each file runs in well under a minute.
"""

import contextlib
import os
import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps a cache and writes a patch for each failure under ./.hypothesis/; keep that
# out of the working tree (examples are derandomized, nothing of value is stored there).
set_hypothesis_home_dir(
    os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or Path(tempfile.gettempdir()) / "hypothesis-offline-digits"
)


def fixed(max_examples: int):
    """Hypothesis settings for the property tests: a fixed seed, no deadline, no database, a bounded run."""
    return settings(
        derandomize=True,
        deadline=None,
        database=None,
        max_examples=max_examples,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
    )


@contextlib.contextmanager
def warnings_are_errors():
    """A NumPy warning (overflow in a cast, a discarded imaginary part) fails the test, like an exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
