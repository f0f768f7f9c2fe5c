"""``python -m digits predict IMAGE...`` and ``python -m digits evaluate``: see digits/cli.py."""

import sys

from .cli import main

sys.exit(main())
