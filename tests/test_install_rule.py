"""A run replaces the installed model only when it should (issue 18: a quick run once installed a
94% model over the shipped 99.59% one), and says why on screen."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digits.install_rule import InstallRule

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models" / "mnist_int8.npz"


@pytest.fixture(scope="module")
def validation(mnist):
    """500 real digits and what the shipped model makes of them."""
    x = mnist["test_images"][:500].astype(np.float32) / 255
    y = mnist["test_labels"][:500].astype(np.int64)
    return x, y


@pytest.fixture
def installed(tmp_path) -> Path:
    path = tmp_path / "mnist_int8.npz"
    shutil.copy(SHIPPED, path)
    return path


def shipped_accuracy(x, y) -> float:
    from engine import load_model

    return float((load_model(SHIPPED).predict(x) == y).mean())


def test_a_full_run_at_least_as_good_as_the_installed_model_installs(installed, validation):
    x, y = validation
    decision = InstallRule().decide(shipped_accuracy(x, y), installed, x, y)
    assert decision.install and "on the same split" in decision.reason


def test_a_full_run_worse_than_the_installed_model_does_not_install(installed, validation):
    x, y = validation
    worse = shipped_accuracy(x, y) - 0.002  # one digit in 500 fewer
    decision = InstallRule().decide(worse, installed, x, y)
    assert not decision.install
    assert "--install" in decision.reason and f"{worse * 100:.2f}%" in decision.reason


def test_a_limit_run_does_not_install_even_when_better(installed, validation):
    x, y = validation
    rule = InstallRule(limited=True)
    assert not rule.may_install
    assert not rule.decide(1.0, installed, x, y).install


def test_install_and_no_install_decide_alone(installed, validation):
    x, y = validation
    assert InstallRule(forced=True, limited=True).decide(0.1, installed, x, y).install
    assert not InstallRule(never=True).decide(1.0, installed, x, y).install
    assert not InstallRule(never=True).may_install


def test_a_missing_or_damaged_installed_model_is_replaced(tmp_path, validation):
    x, y = validation
    missing = tmp_path / "nothing.npz"
    assert InstallRule().decide(0.5, missing, x, y).install
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(SHIPPED.read_bytes()[:1000])
    decision = InstallRule().decide(0.5, damaged, x, y)
    assert decision.install and "did not load" in decision.reason


def test_the_quick_smoke_run_leaves_the_installed_model_alone(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(SHIPPED, models / "mnist_int8.npz")
    command = [sys.executable, str(ROOT / "train_offline.py"), "--limit", "300", "--epochs", "1", "--arch", "mlp"]
    result = subprocess.run(
        [*command, "--quiet", "--out", str(tmp_path / "runs"), "--models-dir", str(models)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "not installed: a --limit run never replaces" in result.stdout
    assert (models / "mnist_int8.npz").read_bytes() == SHIPPED.read_bytes()
    assert sorted(p.name for p in models.iterdir()) == ["mnist_int8.npz"]
