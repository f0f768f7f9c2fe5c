"""Saying "that is not a digit": the rule ``predict(images, reject=True)`` applies.

A model either has an eleventh output, "not a digit", trained on letters, symbols,
scribbles and fragments, or only the ten digits. Each image gets a rejection score
in [0, 1]: the probability of "not a digit" for the first kind, one minus the top
digit's probability for the second. An image is rejected (-1) when its score
reaches the rule's ``threshold``, or when it holds almost no ink at all.

The rule travels inside the model file (the architecture's optional "reject"
object, e.g. {"threshold": 0.5, "min_ink": 0.01}), where training puts the
threshold it chose on its validation split; models without one get DEFAULT.
"""

from dataclasses import asdict, dataclass

from .layers import config_fields as fields

DIGITS = 10
NOT_A_DIGIT = DIGITS  # index of the "not a digit" output, in models that have one


@dataclass(frozen=True)
class RejectRule:
    threshold: float = 0.5  # rejection score at or above which an image is not a digit
    min_ink: float = 0.005  # mean pixel value below which an image is empty (a dot, a smudge)

    @classmethod
    def from_config(cls, config) -> "RejectRule":
        """The rule from a model file's "reject" object (ValueError naming the field if it is off)."""
        if config is None:
            return cls()
        if not isinstance(config, dict):
            raise ValueError(f"reject must be a JSON object, got {type(config).__name__}")
        named = {**config, "type": "reject"}  # the fields' errors start with the type: "reject.threshold must ..."
        fields.only(named, ("threshold", "min_ink"))
        return cls(
            threshold=fields.real(named, "threshold", 0.0, 1.0, default=cls.threshold),
            min_ink=fields.real(named, "min_ink", 0.0, 1.0, default=cls.min_ink),
        )

    def config(self) -> dict:
        return asdict(self)


DEFAULT = RejectRule()
