"""Float arithmetic that gives the same bits on every platform: CPython with BLAS and Pyodide without.

A BLAS matrix product, NumPy's ``sum`` and ``exp`` each pick their own order of additions and
their own approximations, which differ between OpenBLAS on x86 and NumPy's plain loops in
WebAssembly, so the same training run would end in slightly different weights in the page.
Everything here is built only from IEEE-754 operations that are correctly rounded wherever
they run (elementwise +, -, *, /, sqrt, rint, ldexp), applied in one fixed order:

- ``tree_sum``: sums along an axis by halving (pairs a fixed distance apart), zeros padding
  the length to a power of two;
- ``exp``: range reduction by ln 2 and a degree-13 polynomial (relative error < 1e-15);
- ``sin_cos``: Taylor polynomials for the small angles of augmentation (|x| <= 0.5);
- ``dense_forward`` / ``dense_backward``: a Dense layer's products as elementwise products
  added by ``tree_sum``, one output at a time;
- ``softmax_cross_entropy_grad``: dL/dlogits of the engine's loss (``losses.py``), label
  smoothing included.

Slower than BLAS, so used only where it is cheap: ``personalize`` trains a 256 x 11 head.
"""

import numpy as np

LN2_HI = 0.6931471803691238  # ln 2 split so n * LN2_HI is exact for |n| < 2**20
LN2_LO = 1.9082149292705877e-10
INV_LN2 = 1.4426950408889634
EXP_TERMS = 13  # Taylor terms of exp(r) for |r| <= ln(2)/2: the last one is below 1e-16


def tree_sum(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sum of ``a`` along ``axis`` in a fixed order (pairwise halving), the same bits everywhere."""
    a = np.asarray(a)
    axis = axis % a.ndim
    n = a.shape[axis]
    size = 1 << max(n - 1, 0).bit_length()
    if size != n:  # zeros pad the length to a power of two (adding 0 changes nothing)
        pad = list(a.shape)
        pad[axis] = size - n
        a = np.concatenate([a, np.zeros(pad, a.dtype)], axis=axis)
    lead = (slice(None),) * axis
    while a.shape[axis] > 1:
        half = a.shape[axis] // 2
        a = a[lead + (slice(0, half),)] + a[lead + (slice(half, None),)]
    return a.reshape(a.shape[:axis] + a.shape[axis + 1 :])


def exp(x: np.ndarray) -> np.ndarray:
    """e**x for float64 ``x`` <= 0 (as softmax needs it), below e**-700 taken as 0."""
    x = np.maximum(np.asarray(x, np.float64), -700.0)
    n = np.rint(x * INV_LN2)
    r = (x - n * LN2_HI) - n * LN2_LO  # |r| <= ln(2)/2
    poly = np.ones_like(r)
    for k in range(EXP_TERMS, 0, -1):  # Horner: 1 + r/1 (1 + r/2 (1 + r/3 (...)))
        poly = 1.0 + poly * r / k
    return np.ldexp(poly, n.astype(np.int32))


def sin_cos(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sin x, cos x) for float64 |x| <= 0.5 by Taylor polynomials (error < 1e-16)."""
    x = np.asarray(x, np.float64)
    x2 = x * x
    s, c = np.ones_like(x), np.ones_like(x)
    for k in range(8, 0, -1):  # sin: x (1 - x^2/(2*3) (1 - x^2/(4*5) ...)), cos: 1 - x^2/(1*2) (...)
        s = 1.0 - s * x2 / ((2 * k) * (2 * k + 1))
        c = 1.0 - c * x2 / ((2 * k - 1) * (2 * k))
    return x * s, c


def dense_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x (N, I) @ w (I, O) + b (O,): each output's I products added by ``tree_sum``."""
    y = np.empty((x.shape[0], w.shape[1]), np.result_type(x, w))
    for o in range(w.shape[1]):
        y[:, o] = tree_sum(x * w[:, o], axis=1) + b[o]
    return y


def dense_backward(x: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dW (I, O), dL/db (O,)) of ``dense_forward`` for dL/dy (N, O): sums over the N samples by ``tree_sum``."""
    dw = np.empty((x.shape[1], dy.shape[1]), np.result_type(x, dy))
    for o in range(dy.shape[1]):
        dw[:, o] = tree_sum(x * dy[:, o, None], axis=0)
    return dw, tree_sum(dy, axis=0)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of float64 logits (N, K)."""
    e = exp(logits - logits.max(axis=1, keepdims=True))  # max is exact: no rounding to differ in
    return e / tree_sum(e, axis=1)[:, None]


def smoothed_targets(labels: np.ndarray, k: int, smoothing: float = 0.0) -> np.ndarray:
    """(N, K) target distributions: (1-s) on each label plus s/K everywhere (``losses.py``'s)."""
    target = np.full((len(labels), k), smoothing / k)
    target[np.arange(len(labels)), labels] += 1.0 - smoothing
    return target


def soft_cross_entropy_grad(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """dL/dlogits (N, K) of the mean cross-entropy of softmax(logits) against distributions ``target``."""
    return (softmax(logits) - target) / logits.shape[0]


def softmax_cross_entropy_grad(logits: np.ndarray, labels: np.ndarray, smoothing: float = 0.0) -> np.ndarray:
    """dL/dlogits (N, K) of the mean cross-entropy against ``labels``, target (1-s) one-hot + s/K."""
    return soft_cross_entropy_grad(logits, smoothed_targets(labels, logits.shape[1], smoothing))
