"""web/wording.py: one rounding rule for every figure the page shows, and digits in words (checked in CPython)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

import wording  # noqa: E402


@pytest.mark.parametrize(
    "p, text",
    [
        (0.985, "99%"),
        (0.9849, "98%"),
        (0.995, "100%"),
        (1.0, "100%"),
        (0.004, "0%"),
        (0.005, "1%"),
        (0.0, "0%"),
        (0.125, "13%"),
    ],
)
def test_percent_is_whole_and_rounds_half_up(p, text):
    assert wording.percent(p) == text


def test_a_bar_is_as_long_as_its_figure_says():
    assert wording.bar_width(0.004) == "0%"  # reads 0%: no sliver
    assert wording.bar_width(0.0) == "0%"
    assert wording.bar_width(0.985) == "98.5%"
    assert wording.bar_width(0.005) == "0.5%"


def test_articles():
    assert [wording.a_digit(d) for d in (8, 3, 0, 1)] == ["an 8", "a 3", "a 0", "a 1"]


def test_runner_up_is_named_only_when_it_matters():
    assert wording.runner_up(8, 0.3, unsure=True) == ("Not sure — it could also be an 8 (30%).", True)
    assert wording.runner_up(3, 0.004, unsure=False) == ("No other digit comes close.", False)
    assert wording.runner_up(3, 0.012, unsure=False) == ("Runner-up: 3 (1%)", False)
