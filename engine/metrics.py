"""Classification metrics: accuracy, confusion matrix, per-class precision/recall/F1."""

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """(K, K) int64 counts; rows are true classes, columns predictions."""
    return (
        np.bincount(np.asarray(y_true) * num_classes + np.asarray(y_pred), minlength=num_classes * num_classes)
        .reshape(num_classes, num_classes)
        .astype(np.int64)
    )


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> dict:
    """accuracy, per-class precision/recall/F1/support and the confusion matrix, as plain Python values."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(np.float64)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=(precision + recall) > 0)
    return {
        "accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "per_class": [
            {
                "class": k,
                "precision": float(precision[k]),
                "recall": float(recall[k]),
                "f1": float(f1[k]),
                "support": int(actual[k]),
            }
            for k in range(num_classes)
        ],
        "confusion_matrix": cm.tolist(),
    }
