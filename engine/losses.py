"""Softmax cross-entropy, numerically stable, with optional label smoothing."""

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(z)) via log-sum-exp: subtracting the row maximum keeps exp() from overflowing."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray, smoothing: float = 0.0):
    """Mean cross-entropy of ``logits`` (N, K) against integer ``labels`` (N,).

    With label smoothing ``s`` the target is (1-s) on the true class plus s/K
    everywhere. Returns (loss as a Python float, dL/dlogits of shape (N, K)).
    """
    n, k = logits.shape
    log_p = log_softmax(logits)
    target = np.full((n, k), smoothing / k, dtype=logits.dtype)
    target[np.arange(n), labels] += 1.0 - smoothing
    loss = -float(np.sum(target * log_p)) / n
    dlogits = (np.exp(log_p) - target) / logits.dtype.type(n)
    return loss, dlogits
