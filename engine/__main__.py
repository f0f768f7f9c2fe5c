"""``python -m engine ...`` is the application's command line (``python -m digits``), kept for habit.

The library itself has no command line: this shim only hands over to the
application package when it is installed beside the engine, as in the repository.
"""

import sys

try:
    from digits.cli import main
except ImportError:
    sys.exit(
        "error: the command line lives in the application package `digits`, which is not installed "
        "beside this engine; run it from the repository (pip install -e .)"
    )
sys.exit(main())
