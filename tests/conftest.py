import os
import sys

# Tests import helpers that sit beside them (gradcheck.py) and the engine from the repository root.
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
