"""What every classifier offers users: probabilities, digits, and "that is not a digit".

``Classifier`` holds the public prediction API shared by the float model
(``model.Sequential``) and the int8 model (``quantized_model.QuantizedModel``):
both only provide ``logits`` for a float32 batch shaped like ``input_shape``, with
ten outputs (the digits) or eleven (the digits and "not a digit", see rejection.py).
"""

import numpy as np

from .errors import InputShapeError
from .images import as_image_batch
from .losses import softmax
from .rejection import DEFAULT, DIGITS, NOT_A_DIGIT, RejectRule


class Classifier:
    input_shape: tuple
    card: dict
    reject_rule: RejectRule = DEFAULT

    def logits(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, images, batch_size: int = 1000) -> np.ndarray:
        """Digit probabilities (N, 10) float32 for images (N,28,28) or (28,28), uint8 or float in [0,1].

        For a model with a "not a digit" output these are the digits' probabilities
        given that the image is a digit (a softmax over the ten digit logits alone, so they
        stay a distribution even where "not a digit" is so sure that the others underflow);
        ``rejection_scores`` says how likely it is not a digit."""
        return self._digit_probabilities(self._logits(self._batch(images), batch_size))

    def predict(self, images, batch_size: int = 1000, reject: bool = False) -> np.ndarray:
        """Predicted digit (N,) int64 for each image; with ``reject=True``, -1 where it is not a digit."""
        x = self._batch(images)
        logits = self._logits(x, batch_size)
        labels = self._digit_probabilities(logits).argmax(axis=1).astype(np.int64)
        if reject:
            labels[self._rejected(x, logits)] = -1
        return labels

    def rejection_scores(self, images, batch_size: int = 1000) -> np.ndarray:
        """(N,) float32 in [0, 1]: how sure the model is that each image is not a digit."""
        return self._scores(self._logits(self._batch(images), batch_size))

    def rejected_by_logits(self, images, logits) -> np.ndarray:
        """(N,) bool: where ``predict(images, reject=True)`` says -1, from logits already computed
        for ``images`` (callers that classify once and read both the digit and the verdict)."""
        x = self._batch(images)
        logits = np.nan_to_num(np.asarray(logits, np.float32), nan=0.0, posinf=1e30, neginf=-1e30)
        if logits.ndim != 2 or logits.shape[0] != x.shape[0]:
            raise InputShapeError(f"logits must be (N, outputs) for {x.shape[0]} images, got {logits.shape}")
        return self._rejected(x, logits)

    # -- the pieces ------------------------------------------------------------------
    def _batch(self, images) -> np.ndarray:
        x = as_image_batch(images)
        return x.reshape((x.shape[0], *self.input_shape))

    def _logits(self, x: np.ndarray, batch_size) -> np.ndarray:
        """Every output's logit, (N, 10) or (N, 11) float32, in batches of ``batch_size``."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise InputShapeError(f"batch_size must be a whole number of at least 1, got {batch_size!r:.40}")
        parts = []
        for start in range(0, x.shape[0], batch_size):
            with np.errstate(all="ignore"):  # overflow is handled just below, not printed
                logits = np.asarray(self.logits(x[start : start + batch_size]), np.float32)
            # A model that overflows on some input still gives probabilities, never NaN.
            np.nan_to_num(logits, copy=False, nan=0.0, posinf=1e30, neginf=-1e30)
            parts.append(logits)
        return np.concatenate(parts) if parts else np.empty((0, self._outputs()), np.float32)

    @staticmethod
    def _digit_probabilities(logits: np.ndarray) -> np.ndarray:
        return softmax(logits[:, :DIGITS]).astype(np.float32, copy=False)

    def _outputs(self) -> int:
        return int(self.logits(np.zeros((1, *self.input_shape), np.float32)).shape[1])

    def _scores(self, logits: np.ndarray) -> np.ndarray:
        if logits.shape[1] > NOT_A_DIGIT:
            return softmax(logits)[:, NOT_A_DIGIT].astype(np.float32)
        return (1.0 - self._digit_probabilities(logits).max(axis=1)).astype(np.float32)

    def _rejected(self, x: np.ndarray, logits: np.ndarray) -> np.ndarray:
        rule = self.reject_rule
        empty = x.reshape(len(x), -1).mean(axis=1) < rule.min_ink
        return empty | (self._scores(logits) >= rule.threshold)
