"""Optimizers: SGD with (Nesterov) momentum and AdamW with decoupled weight decay.

An optimizer holds a list of (key, parameter, gradient) triples and updates
the parameters in place, so layers never see new arrays. The learning rate is
passed to ``step`` by the training loop, which owns the schedule. Weight decay
applies to weight matrices only (keys ending in ``.W``), not to biases or
BatchNorm's scale and shift, which decay would only pull towards zero.
``state_dict`` returns plain arrays and numbers so checkpoints need no pickle.
"""

import numpy as np

from .parallel import map_spans, spans


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

    The whole update is one pass over the model as a single long vector, in chunks
    split between the engine's threads, each chunk doing every step of the update
    while it is in cache. A ``Sequential`` model keeps its parameters and gradients
    back to back in two flat buffers, which are used as they are; parameters laid
    out any other way are gathered into buffers of the optimizer's own and written
    back after each step.

    The moments are kept as running sums without Adam's (1 - beta) factors:
    ``m_sum = beta1 * m_sum + g`` is ``m / (1 - beta1)``, and likewise for ``v``.
    That saves two passes per step; the factors are folded into the step size.
    """

    def __init__(self, params, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        self.params = list(params)
        self.beta1, self.beta2 = map(float, betas)
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.t = 0
        # At least float32: the second moment, kept as a sum near 1000 g^2, would overflow float16.
        dtype = np.result_type(np.float32, *(p.dtype for _, p, _ in self.params))
        ends = np.cumsum([p.size for _, p, _ in self.params], dtype=np.int64)
        self._segments = [(int(end) - p.size, int(end)) for (_, p, _), end in zip(self.params, ends)]
        total = int(ends[-1]) if self.params else 0
        flat_params = _back_to_back([p for _, p, _ in self.params], dtype)
        flat_grads = _back_to_back([g for _, _, g in self.params], dtype)
        self._gathered = flat_params is None or flat_grads is None
        if flat_params is None or flat_grads is None:
            flat_params, flat_grads = np.empty(total, dtype), np.empty(total, dtype)
        self._flat_params, self._flat_grads = flat_params, flat_grads
        self._decayed = _merged([seg for (key, _, _), seg in zip(self.params, self._segments) if _decays(key)])
        self._m_sum, self._v_sum = np.zeros(total, dtype), np.zeros(total, dtype)
        self._scratch = np.empty(total, dtype)
        # Per-parameter views of the flat moments, for checkpoints.
        self.m = {key: self._m_sum[a:b].reshape(p.shape) for (key, p, _), (a, b) in zip(self.params, self._segments)}
        self.v = {key: self._v_sum[a:b].reshape(p.shape) for (key, p, _), (a, b) in zip(self.params, self._segments)}

    def step(self, lr: float) -> None:
        if not self.params:
            return
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # m_hat = m_sum (1-b1)/(1-b1^t) and sqrt(v_hat) = sqrt(v_sum) * root, root = sqrt((1-b2)/(1-b2^t)):
        # the update lr * m_hat / (sqrt(v_hat) + eps) is step_size * m_sum / (sqrt(v_sum) + eps_hat).
        root = np.sqrt((1 - b2) / (1 - b2**self.t))
        step_size = np.float32(lr * (1 - b1) / (1 - b1**self.t) / root)
        eps_hat = np.float32(self.eps / root)
        decay = np.float32(1 - lr * self.weight_decay) if self.weight_decay else None
        if self._gathered:
            self._gather()
        p, g, m, v, u = self._flat_params, self._flat_grads, self._m_sum, self._v_sum, self._scratch
        b1, b2 = np.float32(b1), np.float32(b2)

        def update(a, b):  # every step for one chunk, so it stays in cache
            m[a:b] *= b1
            m[a:b] += g[a:b]
            np.multiply(g[a:b], g[a:b], out=u[a:b])
            v[a:b] *= b2
            v[a:b] += u[a:b]
            np.sqrt(v[a:b], out=u[a:b])
            u[a:b] += eps_hat
            np.divide(m[a:b], u[a:b], out=u[a:b])
            u[a:b] *= step_size
            if decay is not None:
                for lo, hi in self._decayed:  # decoupled weight decay, before the step
                    if lo < b and a < hi:
                        p[max(a, lo) : min(b, hi)] *= decay
            p[a:b] -= u[a:b]

        map_spans(update, spans(p.size, UPDATE_CHUNK))
        if self._gathered:
            self._scatter()

    def _gather(self) -> None:
        for (_, p, g), (a, b) in zip(self.params, self._segments):
            self._flat_params[a:b] = p.reshape(-1)
            self._flat_grads[a:b] = g.reshape(-1)

    def _scatter(self) -> None:
        for (_, p, _), (a, b) in zip(self.params, self._segments):
            p[...] = self._flat_params[a:b].reshape(p.shape)

    def state_dict(self) -> dict:
        """The step count and both moments per parameter, kept as running sums ("m_sum/..", "v_sum/..")."""
        state = {"t": np.array(self.t, np.int64)}
        state.update({f"m_sum/{k}": a for k, a in self.m.items()})
        state.update({f"v_sum/{k}": a for k, a in self.v.items()})
        return state

    def load_state_dict(self, state: dict) -> None:
        """Also reads the plain Adam moments ("m/..", "v/..") that earlier checkpoints hold."""
        self.t = int(state["t"])
        for key in self.m:
            if f"m_sum/{key}" in state:
                self.m[key][...] = state[f"m_sum/{key}"]
                self.v[key][...] = state[f"v_sum/{key}"]
            else:
                self.m[key][...] = state[f"m/{key}"] / np.float32(1 - self.beta1)
                self.v[key][...] = state[f"v/{key}"] / np.float32(1 - self.beta2)


# Elements per chunk of the optimizer's update (1 MB of float32 per array): measured
# fastest on a 2-core EPYC VM. Smaller chunks, even ones that fit in L2, paid more in
# NumPy call overhead and in threads waiting for the GIL than they gained in cache hits.
UPDATE_CHUNK = 1 << 18


def _back_to_back(arrays, dtype) -> np.ndarray | None:
    """A 1-D view of one buffer holding ``arrays`` back to back in this order, or None if they are not."""
    if not arrays:
        return None
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous or base.dtype != dtype:
        return None
    address = base.__array_interface__["data"][0]
    start = offset = (arrays[0].__array_interface__["data"][0] - address) // base.itemsize
    for a in arrays:
        if (
            a.base is not base
            or a.dtype != dtype
            or not a.flags.c_contiguous
            or a.__array_interface__["data"][0] != address + offset * base.itemsize
        ):
            return None
        offset += a.size
    return base[start:offset]


def _merged(ranges):
    """Adjacent (start, stop) ranges joined into one."""
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        if out and out[-1][1] == a:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


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
