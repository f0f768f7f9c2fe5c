"""Float64 central finite differences, the reference every backward pass is checked against."""

import numpy as np


def to_float64(layer):
    """Give a layer float64 parameters and gradients so differences are not drowned in rounding."""
    for name in list(layer.params):
        layer.params[name] = layer.params[name].astype(np.float64)
        layer.grads[name] = np.zeros_like(layer.params[name])
    for name in list(layer.buffers):
        layer.buffers[name] = layer.buffers[name].astype(np.float64)
    return layer


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dF/dx for scalar F = f() by central differences, perturbing ``x`` in place."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def check_layer_gradients(layer, x: np.ndarray, rng: np.random.Generator, training: bool = True, atol=1e-6, rtol=1e-5):
    """Compare a layer's analytic dL/dx and dL/dparams with finite differences of L = sum(y * r)."""
    to_float64(layer)
    x = x.astype(np.float64)
    y = layer.forward(x, training=training, rng=np.random.default_rng(7))
    r = rng.standard_normal(y.shape)  # a random projection makes every output matter

    def loss():
        return float(np.sum(layer.forward(x, training=training, rng=np.random.default_rng(7)) * r))

    layer.forward(x, training=training, rng=np.random.default_rng(7))
    dx = layer.backward(r.copy())
    analytic = {name: g.copy() for name, g in layer.grads.items()}
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), atol=atol, rtol=rtol, err_msg="dL/dx")
    for name, param in layer.params.items():
        np.testing.assert_allclose(
            analytic[name], numerical_gradient(loss, param), atol=atol, rtol=rtol, err_msg=f"dL/d{name}"
        )
