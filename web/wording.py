"""How the page says a probability and a digit in words: one rounding rule for every figure shown.

The big "99% sure", the bars, the glyph list and the boxes' labels all use
``percent``, so a bar never says 98.5% beside a "99% sure". A bar is as long as
its figure says (``bar_width``): a "0%" bar shows nothing, not a sliver. A
runner-up that shows as under 1% is not worth naming (``runner_up``).
Pure Python: checked in CPython by tests/test_web_wording.py.
"""

from __future__ import annotations

import math

NEGLIGIBLE = 0.005  # below this a probability reads "0%" and its bar is empty


def percent(p: float) -> str:
    """Whole percent, half rounded up (0.985 -> "99%", 0.004 -> "0%")."""
    return f"{math.floor(float(p) * 100 + 0.5)}%"


def bar_width(p: float) -> str:
    """CSS width of a probability bar: none at all for what reads as 0%."""
    return "0%" if p < NEGLIGIBLE else f"{float(p) * 100:.1f}%"


def a_digit(d: int) -> str:
    """The digit with its article, as it is read aloud: "a 3", "an 8"."""
    return f"an {d}" if d == 8 else f"a {d}"


def runner_up(second: int, p_second: float, unsure: bool) -> tuple[str, bool]:
    """The line under a single digit's answer and whether it is a warning: the runner-up when it matters."""
    if unsure:
        return f"Not sure — it could also be {a_digit(second)} ({percent(p_second)}).", True
    if p_second < 0.01:
        return "No other digit comes close.", False
    return f"Runner-up: {second} ({percent(p_second)})", False
