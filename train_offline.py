#!/usr/bin/env python3
"""Train, evaluate and export a digit recognizer with the pure-NumPy engine.

    python train_offline.py                   # the default CNN, end to end, installed into models/
    python train_offline.py --arch mlp        # the small fully connected model
    python train_offline.py --limit 3000 --epochs 2   # a quick smoke run
    python train_offline.py --resume runs/2026-11-24T10-00-00-cnn   # continue after Ctrl-C

The pipeline is the application package's: see digits/train_command.py.
"""

import sys

from digits.train_command import main

if __name__ == "__main__":
    sys.exit(main())
