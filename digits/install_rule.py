"""Whether a finished run replaces the model installed in models/, and why.

A quick run (``--limit``) or a worse model must never replace the shipped one by
accident: a full run installs only when its validation accuracy is at least the
installed model's, both measured on this run's validation split. ``--install``
installs whatever the run made; ``--no-install`` never does.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import ModelFormatError, load_model

FORCE_HINT = "pass --install to install it anyway"


@dataclass(frozen=True)
class Decision:
    install: bool
    reason: str  # one sentence for the screen


@dataclass(frozen=True)
class InstallRule:
    forced: bool = False  # --install
    never: bool = False  # --no-install
    limited: bool = False  # --limit: trained on part of MNIST

    @classmethod
    def from_args(cls, args) -> "InstallRule":
        return cls(forced=bool(args.install), never=bool(args.no_install), limited=args.limit is not None)

    @property
    def may_install(self) -> bool:
        """False when no outcome of the run can install (so models/ need not be writable)."""
        return self.forced or not (self.never or self.limited)

    def decide(self, val_accuracy: float, installed: Path, val_x: np.ndarray, val_y: np.ndarray) -> Decision:
        """``val_accuracy``: the new model's on (val_x, val_y); ``installed``: the model file it would replace."""
        if self.never:
            return Decision(False, "not installed (--no-install)")
        if self.forced:
            return Decision(True, "installed (--install)")
        if self.limited:
            return Decision(False, f"not installed: a --limit run never replaces {installed}; {FORCE_HINT}")
        if not installed.is_file():
            return Decision(True, f"installed: {installed} did not exist")
        try:
            current = load_model(installed)
        except ModelFormatError as exc:
            return Decision(True, f"installed: the model it replaces did not load ({str(exc).splitlines()[0]})")
        current_accuracy = float((current.predict(val_x) == val_y).mean())
        figures = (
            f"validation {val_accuracy * 100:.2f}%, installed model {current_accuracy * 100:.2f}% on the same split"
        )
        if val_accuracy >= current_accuracy:
            return Decision(True, f"installed: {figures}")
        return Decision(False, f"not installed: {figures}; {FORCE_HINT}")
