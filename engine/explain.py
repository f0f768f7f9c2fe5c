"""Why the model read a digit: saliency maps and the feature maps of each conv stage.

``saliency(model, image28, target)`` is a (28, 28) map of what pushed the model toward
``target`` (its answer by default): positive where a pixel's ink raised the target's
logit, negative where it lowered it. Two methods, both through the engine's own backward
passes (``layers/``) with the loss gradient replaced by a one-hot on the target logit:

- "gradient_x_input": x * dz_target/dx, one forward and one backward pass;
- "integrated_gradients" (Sundararajan et al., 2017): x * the mean of dz_target/dx along
  the straight path from a black image to x (``steps`` midpoints, all in one batch). Its
  map sums to z_target(x) - z_target(black) up to the step count's error.

An int8 model is explained through its float working copy (``float_copy``: the weights
dequantized, so the map is the "dequantized" inference path's); a float model through its
inference form (BatchNorm folded, Dropout gone). The copy is made once per model and kept
while the model lives.

``first_filters(model)`` are the first conv layer's kernels (dequantized for an int8 model),
and ``output_scores(model, image28)`` the last layer's activations (the logits: ten digits,
and "not a digit" for a model with that output).

``feature_maps(model, image28)`` runs the model itself (int8 layers for an int8 model) and
returns the activations after each conv stage, for the page's "what each layer sees".

Non-goals: attribution for models other than the engine's sequential stacks, smoothing
(SmoothGrad) or occlusion.
"""

import weakref

import numpy as np

from .errors import EngineError, InputShapeError
from .float_copy import float_copy
from .images import as_image_batch
from .layers import Layer
from .layers.activations import ReLU
from .layers.conv2d import Conv2D
from .layers.quantized import QuantizedLayer
from .model import Sequential
from .quantize import fold_batchnorm
from .quantized_model import QuantizedModel
from .rejection import DIGITS

__all__ = ["METHODS", "saliency", "feature_maps", "first_filters", "output_scores", "gradient_model", "logit_gradients"]

METHODS = ("gradient_x_input", "integrated_gradients")
MAX_STEPS = 1024  # integrated gradients' path points; more buys nothing a 28x28 map can show

# model -> its float inference copy with dL/d(image) switched on, made once per model.
_COPIES: "weakref.WeakKeyDictionary[object, Sequential]" = weakref.WeakKeyDictionary()


def gradient_model(model) -> Sequential:
    """The float inference Sequential whose backward pass explains ``model`` (cached per model).

    Its first layer computes dL/d(image), which training skips."""
    try:
        return _COPIES[model]
    except (KeyError, TypeError):
        pass
    if isinstance(model, QuantizedModel):
        net = float_copy(model)
    elif isinstance(model, Sequential):
        net = fold_batchnorm(model)  # copies every layer: the model itself is never touched
    else:
        raise TypeError(f"saliency explains an engine model (Sequential or int8), got {type(model).__name__}")
    if net.layers:
        net.layers[0].needs_input_grad = True
    for layer in net.layers:
        if hasattr(layer, "winograd_allowed"):
            layer.winograd_allowed = False  # explain the inference convolution itself
    try:
        _COPIES[model] = net
    except TypeError:  # not weak-referenceable: no cache
        pass
    return net


def logit_gradients(net: Sequential, x: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(logits (N, K), dz_target/dx shaped like ``x``) for a batch ``x`` shaped for ``net``.

    One forward pass that keeps what backward needs (``net`` holds no Dropout or BatchNorm,
    so training mode changes nothing else), then backward from a one-hot on each row's target.
    Works in ``x``'s dtype (float64 for gradient checks)."""
    h = x
    for layer in net.layers:
        h = layer.forward(h, training=True)
    logits = h
    grad: np.ndarray | None = np.zeros_like(logits)
    grad[np.arange(len(targets)), targets] = 1  # type: ignore[index]
    for layer in reversed(net.layers):
        assert grad is not None
        grad = layer.backward(grad)
    assert grad is not None, "the first layer skipped dL/dx"
    return logits, grad.reshape(x.shape)


def _one_image(image28) -> np.ndarray:
    """(28, 28) float32 in [0, 1] from one image (28, 28) or (1, 28, 28), uint8 or float."""
    shape = np.shape(image28)
    if len(shape) == 3 and shape[0] != 1:
        raise InputShapeError(f"saliency explains one image, (28, 28); got a batch of {shape[0]}, {shape}")
    return as_image_batch(image28)[0]


def _check_target(target, outputs: int) -> int:
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= target < outputs:
        raise InputShapeError(f"target must be a digit 0..{outputs - 1} (the output to explain), got {target!r:.40}")
    return int(target)


def saliency(model, image28, target=None, method: str = "gradient_x_input", steps: int = 32) -> np.ndarray:
    """(28, 28) float32: how much each pixel pushed ``model`` toward ``target`` (+) or against it (-).

    ``image28``: one 28x28 image as the model takes it (uint8 0..255 or float 0..1, ink
    bright on dark; ``engine.preprocess`` makes one from any drawing). ``target``: the output
    to explain, default the digit the model reads. ``method``: "gradient_x_input" or
    "integrated_gradients" (``steps`` points on the path from black, 1..1024).
    Raises InputShapeError for a bad image or target, EngineError (a ValueError) for a bad method or steps."""
    if method not in METHODS:
        raise EngineError(f"unknown saliency method {method!r}; use one of {list(METHODS)}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise EngineError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r:.40}")
    image = _one_image(image28)
    net = gradient_model(model)
    x = image.reshape((1, *net.input_shape))
    if target is None:
        target = int(net.forward(x)[0, :DIGITS].argmax())
    target = _check_target(target, int(net.output_shape[0]))
    # In float64: which input of a pooling window wins and which units a ReLU passes decide where
    # the gradient flows, and in float32 a near-tie falls one way with OpenBLAS's kernels and the
    # other with Pyodide's plain NumPy (maps 9% apart on an AMD host); float64 makes that vanishingly rare.
    x = x.astype(np.float64)
    if method == "gradient_x_input":
        _, grad = logit_gradients(net, x, np.array([target]))
        return (grad[0] * x[0]).reshape(image.shape).astype(np.float32)
    alphas = ((np.arange(steps, dtype=np.float64) + 0.5) / steps).reshape((steps,) + (1,) * x[0].ndim)
    _, grads = logit_gradients(net, alphas * x, np.full(steps, target))
    return (grads.mean(axis=0) * x[0]).reshape(image.shape).astype(np.float32)


def _stage_ends(layers: list[Layer]) -> list[tuple[str, int]]:
    """(name, index of the layer whose output is the stage's) for each Conv2D: its ReLU if one follows."""
    ends, count = [], 0
    for i, layer in enumerate(layers):
        conv = layer.float_layer if isinstance(layer, QuantizedLayer) else layer
        if isinstance(conv, Conv2D):
            count += 1
            end = i + 1 if i + 1 < len(layers) and isinstance(layers[i + 1], ReLU) else i
            ends.append((f"conv{count}", end))
    return ends


def feature_maps(model, image28) -> list[tuple[str, np.ndarray]]:
    """[(stage name, (H, W, C) float32 activations)] after each conv stage (its ReLU), in order.

    "conv1", "conv2", ...; the model's own layers compute them (int8 for an int8 model, the
    inference form of a float model). An MLP has no conv stage: the list is empty."""
    image = _one_image(image28)
    layers = _own_layers(model, "feature_maps")
    ends = dict((end, name) for name, end in _stage_ends(layers))
    out: list[tuple[str, np.ndarray]] = []
    h = image.reshape((1, *model.input_shape))
    for i, layer in enumerate(layers[: max(ends, default=-1) + 1]):
        h = layer.forward(h)
        if i in ends:
            out.append((ends[i], np.asarray(h[0], np.float32).copy()))
    return out


def _own_layers(model, what: str) -> list[Layer]:
    """The layers that compute ``model``'s outputs: int8 ones for an int8 model, the inference form of a float one."""
    if isinstance(model, QuantizedModel):
        return list(model.layers)
    if isinstance(model, Sequential):
        return gradient_model(model).layers
    raise TypeError(f"{what} reads an engine model (Sequential or int8), got {type(model).__name__}")


def first_filters(model) -> np.ndarray:
    """(F, kh, kw) float32: the kernels of the model's first Conv2D on a one-channel input; (0, 0, 0) for an MLP."""
    _own_layers(model, "first_filters")  # the type check
    for layer in gradient_model(model).layers:  # float kernels: an int8 model's dequantized
        if isinstance(layer, Conv2D):
            w = np.asarray(layer.params["W"], np.float32)  # (kh, kw, C, F)
            return np.ascontiguousarray(w.sum(axis=2).transpose(2, 0, 1))
    return np.zeros((0, 0, 0), np.float32)


def output_scores(model, image28) -> np.ndarray:
    """(outputs,) float32: the last layer's activations for one image, before the softmax."""
    h = _one_image(image28).reshape((1, *model.input_shape))
    for layer in _own_layers(model, "output_scores"):
        h = layer.forward(h)
    return np.asarray(h, np.float32).reshape(-1).copy()
