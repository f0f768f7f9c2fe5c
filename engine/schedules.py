"""Learning-rate schedules, as callables from the step number (0-based) to a rate.

One-cycle (Smith & Topin): warm up from max_lr/div to max_lr over the first
``pct_start`` of training, then anneal by cosine to max_lr/final_div. It
trains MNIST-sized problems in few epochs. Cosine with linear warm-up is the
other common choice.
"""

import math


def _cosine(start: float, end: float, fraction: float) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * min(max(fraction, 0.0), 1.0))) / 2


class OneCycle:
    def __init__(
        self, max_lr: float, total_steps: int, pct_start: float = 0.25, div: float = 25.0, final_div: float = 1e4
    ):
        if total_steps < 1:
            raise ValueError("OneCycle needs total_steps >= 1")
        self.max_lr, self.total_steps = float(max_lr), int(total_steps)
        self.warm_steps = max(1, int(round(pct_start * total_steps)))
        self.initial_lr, self.final_lr = max_lr / div, max_lr / final_div

    def __call__(self, step: int) -> float:
        if step < self.warm_steps:
            return _cosine(self.initial_lr, self.max_lr, step / self.warm_steps)
        rest = max(self.total_steps - 1 - self.warm_steps, 1)
        return _cosine(self.max_lr, self.final_lr, (step - self.warm_steps) / rest)


class CosineWarmup:
    def __init__(self, base_lr: float, total_steps: int, warmup_steps: int = 0, min_lr: float = 0.0):
        if total_steps < 1:
            raise ValueError("CosineWarmup needs total_steps >= 1")
        self.base_lr, self.total_steps = float(base_lr), int(total_steps)
        self.warmup_steps, self.min_lr = int(warmup_steps), float(min_lr)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.base_lr * (step + 1) / self.warmup_steps
        rest = max(self.total_steps - 1 - self.warmup_steps, 1)
        return _cosine(self.base_lr, self.min_lr, (step - self.warmup_steps) / rest)


class Constant:
    def __init__(self, lr: float):
        self.lr = float(lr)

    def __call__(self, step: int) -> float:
        return self.lr


SCHEDULES = ("onecycle", "cosine", "constant")


def make_schedule(name: str, lr: float, total_steps: int):
    """A schedule by name; ``lr`` is the peak rate."""
    if name == "onecycle":
        return OneCycle(lr, total_steps)
    if name == "cosine":
        return CosineWarmup(lr, total_steps, warmup_steps=max(1, total_steps // 20))
    if name == "constant":
        return Constant(lr)
    raise ValueError(f"unknown schedule {name!r}; choose one of {list(SCHEDULES)}")
