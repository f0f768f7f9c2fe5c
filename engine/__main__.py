"""``python -m engine predict IMAGE...`` and ``python -m engine evaluate``: see engine/cli.py."""

import sys

from .cli import main

sys.exit(main())
