"""Where "not a digit" starts: the rejection threshold, chosen on validation digits.

An image is rejected when its rejection score (``model.rejection_scores``) reaches
the threshold, or when its mean ink is below the rule's ``min_ink``. Training picks
the lowest threshold that still keeps a given share of the validation digits
(``KEEP_DIGITS``), and writes it into the model's rule, so the file carries it.
"""

from __future__ import annotations

import numpy as np

from engine.rejection import RejectRule

KEEP_DIGITS = 0.995  # of the validation digits; the issue asks for 99% at least, this leaves a margin


def empty(images: np.ndarray, min_ink: float) -> np.ndarray:
    """Images (N, 28, 28) uint8 the rule rejects for holding almost no ink, whatever the score."""
    return images.reshape(len(images), -1).mean(axis=1) / 255.0 < min_ink


def rejected_share(scores: np.ndarray, blank: np.ndarray, threshold: float) -> float:
    return float(((scores >= threshold) | blank).mean()) if len(scores) else float("nan")


def threshold_keeping(scores: np.ndarray, blank: np.ndarray, keep: float) -> float | None:
    """The lowest threshold that keeps at least ``keep`` of these digits (None if the empty ones alone are too many).

    Rejection is ``score >= threshold``; allowing k rejections, the threshold sits just
    above the (k+1)-th highest score of the non-empty digits, so at most k are rejected."""
    allowed = int(np.floor((1.0 - keep) * len(scores) + 1e-9)) - int(blank.sum())
    if allowed < 0:
        return None
    ranked = np.sort(scores[~blank])[::-1]
    if allowed >= len(ranked):
        return 0.0
    return float(np.nextafter(np.float32(ranked[allowed]), np.float32(2.0)))


def chosen_rule(model, val_digits: np.ndarray, keep: float = KEEP_DIGITS) -> RejectRule:
    """``model``'s rule with the threshold that keeps ``keep`` of ``val_digits`` (uint8 (N, 28, 28))."""
    rule = model.reject_rule
    threshold = threshold_keeping(model.rejection_scores(val_digits), empty(val_digits, rule.min_ink), keep)
    if threshold is None:  # more empty digits than allowed: keep every digit that has ink
        threshold = 1.0
    return RejectRule(threshold=min(float(threshold), 1.0), min_ink=rule.min_ink)


def rejection_summary(model, val_digits: np.ndarray, sets: dict[str, np.ndarray]) -> dict:
    """{"digits_kept": share of ``val_digits`` kept, "rejected": {name: share of each set rejected}}
    under ``model``'s own rule, the way ``predict(images, reject=True)`` decides."""
    return {
        "digits_kept": float((model.predict(val_digits, reject=True) >= 0).mean()),
        "rejected": {name: float((model.predict(x, reject=True) < 0).mean()) for name, x in sets.items()},
    }
