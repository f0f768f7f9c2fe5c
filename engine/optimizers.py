"""Optimizers: SGD with (Nesterov) momentum and AdamW with decoupled weight decay.

An optimizer holds a list of (key, parameter, gradient) triples and updates
the parameters in place, so layers never see new arrays. The learning rate is
passed to ``step`` by the training loop, which owns the schedule. Weight decay
applies to weight matrices only (keys ending in ``.W``), not to biases or
BatchNorm's scale and shift, which decay would only pull towards zero.
``state_dict`` returns plain arrays and numbers so checkpoints need no pickle.
"""

import numpy as np

from .parallel import map_rows


def _decays(key: str) -> bool:
    return key.endswith(".W")


class SGD:
    def __init__(self, params, momentum: float = 0.9, nesterov: bool = False, weight_decay: float = 0.0):
        self.params = list(params)
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)
        self.velocity = {key: np.zeros_like(p) for key, p, _ in self.params}

    def step(self, lr: float) -> None:
        for key, p, g in self.params:
            if self.weight_decay and _decays(key):
                g = g + self.weight_decay * p  # L2 penalty folded into the gradient (classic SGD)
            v = self.velocity[key]
            v *= self.momentum
            v += g
            update = g + self.momentum * v if self.nesterov else v
            p -= np.float32(lr) * update

    def state_dict(self) -> dict:
        return {f"velocity/{k}": v for k, v in self.velocity.items()}

    def load_state_dict(self, state: dict) -> None:
        for key in self.velocity:
            self.velocity[key][...] = state[f"velocity/{key}"]


class AdamW:
    """Adam with weight decay applied directly to the weights (Loshchilov & Hutter), not via the gradient.

    The moments of all parameters live in one flat buffer each, and each step
    gathers the gradients into a third: the update is then a dozen NumPy calls
    over one long vector, split between the engine's threads, instead of a dozen
    calls per parameter array (the call overhead dominated for small models).
    """

    def __init__(self, params, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        self.params = list(params)
        self.beta1, self.beta2 = map(float, betas)
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.t = 0
        for key, p, g in self.params:
            if not (p.flags.c_contiguous and g.flags.c_contiguous):
                raise ValueError(f"AdamW updates parameters in place and needs contiguous arrays; {key} is not")
        dtype = np.result_type(*(p.dtype for _, p, _ in self.params)) if self.params else np.float32
        ends = np.cumsum([p.size for _, p, _ in self.params], dtype=np.int64)
        self._segments = [(int(end) - p.size, int(end)) for (_, p, _), end in zip(self.params, ends)]
        total = int(ends[-1]) if self.params else 0
        self._m, self._v = np.zeros(total, dtype), np.zeros(total, dtype)
        self._grad, self._update = np.empty(total, dtype), np.empty(total, dtype)  # reused every step
        # Per-parameter views of the flat moments, for checkpoints.
        self.m = {key: self._m[a:b].reshape(p.shape) for (key, p, _), (a, b) in zip(self.params, self._segments)}
        self.v = {key: self._v[a:b].reshape(p.shape) for (key, p, _), (a, b) in zip(self.params, self._segments)}

    def step(self, lr: float) -> None:
        if not self.params:
            return
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Bias corrections folded into the step size and epsilon (as in the Adam paper, section 2).
        step_size = np.float32(lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t))
        eps_hat = np.float32(self.eps * np.sqrt(1 - b2 ** self.t))
        np.concatenate([g.reshape(-1) for _, _, g in self.params], out=self._grad)
        m, v, g, update = self._m, self._v, self._grad, self._update
        map_rows(lambda a, b: _adam_update(g[a:b], m[a:b], v[a:b], update[a:b], b1, b2, eps_hat, step_size),
                 m.size, 1)
        decay = np.float32(1 - lr * self.weight_decay)
        for (key, p, _), (a, b) in zip(self.params, self._segments):
            flat = p.reshape(-1)  # a view, not a copy: p is C-contiguous (checked in __init__)
            delta = update[a:b]
            if self.weight_decay and _decays(key):
                map_rows(lambda i, j: _decay_and_step(flat[i:j], delta[i:j], decay), p.size, 1)
            else:
                flat -= delta

    def state_dict(self) -> dict:
        state = {"t": np.array(self.t, np.int64)}
        state.update({f"m/{k}": a for k, a in self.m.items()})
        state.update({f"v/{k}": a for k, a in self.v.items()})
        return state

    def load_state_dict(self, state: dict) -> None:
        self.t = int(state["t"])
        for key in self.m:
            self.m[key][...] = state[f"m/{key}"]
            self.v[key][...] = state[f"v/{key}"]


def _adam_update(g, m, v, update, b1, b2, eps_hat, step_size):
    """Moments updated in place, and ``update`` = step_size * m / (sqrt(v) + eps_hat): no temporaries."""
    m *= b1
    np.multiply(g, np.float32(1 - b1), out=update)
    m += update
    v *= b2
    np.multiply(g, g, out=update)
    update *= np.float32(1 - b2)
    v += update
    np.sqrt(v, out=update)
    update += eps_hat
    np.divide(m, update, out=update)
    update *= step_size


def _decay_and_step(p, delta, decay):
    p *= decay
    p -= delta


OPTIMIZERS = {"sgd": SGD, "nesterov": SGD, "adamw": AdamW}


def make_optimizer(name: str, params, weight_decay: float = 0.0, momentum: float = 0.9):
    """An optimizer by name: "sgd" (momentum), "nesterov" or "adamw"."""
    if name == "sgd":
        return SGD(params, momentum=momentum, weight_decay=weight_decay)
    if name == "nesterov":
        return SGD(params, momentum=momentum, nesterov=True, weight_decay=weight_decay)
    if name == "adamw":
        return AdamW(params, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
