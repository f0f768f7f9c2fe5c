"""Int8 post-training quantization and the int8 model.

Steps (``quantize``):
1. Fold each BatchNorm into the Conv2D/Dense before it (W' = W*s, b' = (b-mean)*s + beta,
   s = gamma/sqrt(var+eps)) and drop Dropout: inference-only layers vanish.
2. Weights: symmetric int8 per output channel, scale = max|W[..., c]| / 127, values in [-127, 127].
   Biases stay float32.
3. Activations: one static scale per Conv2D/Dense input, calibrated on a few hundred
   training images, from the maximum or from a high percentile (clipping rare outliers
   buys resolution for the rest); the caller picks the method by validation accuracy.

Two inference paths read the same file (``QuantizedModel.inference``):
- "int8": inputs are quantized to int8 too; int8 x int8 products are accumulated and
  rescaled by s_x * s_w. The accumulation runs as a float32 GEMM on integer-valued
  arrays: every product is at most 127*127 and a sum of K <= 1040 of them stays below
  2**24, where float32 represents every integer exactly, so the result is exactly the
  int32 accumulator while using the fast BLAS kernels NumPy has for floats (NumPy's
  integer matmul has none).
- "dequantized": weights are expanded to float32 once (W_q * s_w) and the network runs
  in float32; only the weights' rounding error remains.
"""

import numpy as np

from . import int8_gemm
from .int8_gemm import pack_weight_pairs, packed_gemm
from .layers import Conv2D, Dense, build_layer
from .layers.conv2d import im2col
from .parallel import map_rows, map_spans, spans, thread_scratch
from .model import Classifier, Sequential

EXACT_FLOAT32_TERMS = (1 << 24) // (127 * 127)  # 1040: longest exact float32 int8 dot product
INFERENCE_MODES = ("int8", "dequantized")


def fold_batchnorm(model: Sequential) -> Sequential:
    """An inference-only float copy of ``model`` with BatchNorm folded in and Dropout removed."""
    layers, configs = [], []
    for layer in model.layers:
        cfg = layer.config()
        if cfg["type"] == "Dropout":
            continue
        if cfg["type"] == "BatchNorm":
            prev = layers[-1] if layers else None
            if not isinstance(prev, (Conv2D, Dense)):
                raise ValueError("BatchNorm must follow a Conv2D or Dense layer to be folded")
            scale = layer.params["gamma"] / np.sqrt(layer.buffers["running_var"] + layer.eps)
            prev.params["W"] = (prev.params["W"] * scale).astype(np.float32)  # scales the output channel axis
            prev.params["b"] = ((prev.params["b"] - layer.buffers["running_mean"]) * scale
                                + layer.params["beta"]).astype(np.float32)
            continue
        copy = build_layer(cfg)
        for name, value in layer.params.items():
            copy.params[name] = value.copy()
        layers.append(copy)
        configs.append(cfg)
    return Sequential(layers, model.input_shape, dict(model.card))


def quantize_weights(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-channel (last axis) int8 weights and their float32 scales (> 0)."""
    peak = np.abs(w.reshape(-1, w.shape[-1])).max(axis=0)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)  # an all-zero channel keeps scale 1
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale


def calibrate(folded: Sequential, images: np.ndarray, method: str = "max", percentile: float = 99.99) -> list[float]:
    """Input-activation scale for each Conv2D/Dense of ``folded``, from float32 ``images`` shaped for it."""
    if method not in ("max", "percentile"):
        raise ValueError(f"unknown calibration method {method!r}; use 'max' or 'percentile'")
    scales, x = [], images
    for layer in folded.layers:
        if isinstance(layer, (Conv2D, Dense)):
            mags = np.abs(x)
            peak = float(mags.max()) if method == "max" else float(np.percentile(mags, percentile))
            scales.append(max(peak, 1e-8) / 127.0)
        x = layer.forward(x)
    return scales


class QuantizedModel(Classifier):
    """An int8 model: folded layers whose Conv2D/Dense weights are int8 with per-channel scales."""

    def __init__(self, architecture: dict, arrays: dict, preprocessing: dict | None = None,
                 card: dict | None = None):
        self.architecture = dict(architecture)
        self.inference = architecture.get("inference", "int8")
        if self.inference not in INFERENCE_MODES:
            raise ValueError(f"unknown inference mode {self.inference!r}; use one of {INFERENCE_MODES}")
        self.input_shape = tuple(architecture["input_shape"])
        self.preprocessing, self.card = dict(preprocessing or {}), dict(card or {})
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}
        self.layers = []
        for i, cfg in enumerate(architecture["layers"]):
            layer = build_layer(cfg)
            if isinstance(layer, (Conv2D, Dense)):
                w_q, w_scale = self.arrays[f"{i}.W"], self.arrays[f"{i}.W_scale"]
                if self.inference == "int8":
                    if w_q[..., 0].size > EXACT_FLOAT32_TERMS:
                        raise ValueError(f"layer {i}: {w_q[..., 0].size} terms per output exceed the "
                                         f"{EXACT_FLOAT32_TERMS} that float32 accumulates exactly")
                    layer.params["W"] = w_q.astype(np.float32)  # integer values, exact in float32
                    layer.params["b"] = np.zeros_like(self.arrays[f"{i}.b"])
                    layer.x_scale = np.float32(self.arrays[f"{i}.x_scale"])
                    layer.inv_x_scale = np.float32(1.0) / layer.x_scale
                    layer.out_scale = (layer.x_scale * w_scale).astype(np.float32)
                    layer.bias = self.arrays[f"{i}.b"].astype(np.float32)
                    layer.w_packed = pack_weight_pairs(w_q) if int8_gemm.PACKED_GEMM else None
                else:
                    layer.params["W"] = (w_q.astype(np.float32) * w_scale).astype(np.float32)
                    layer.params["b"] = self.arrays[f"{i}.b"].astype(np.float32)
            self.layers.append(layer)

    def logits(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            if self.inference == "int8" and isinstance(layer, (Conv2D, Dense)):
                x_q = _quantize_activations(x, layer.inv_x_scale)    # int8 values held in float32
                x = (_forward_packed(layer, x_q) if layer.w_packed is not None
                     else layer.forward(x_q))                         # exact int32 accumulator
                _rescale(x, layer.out_scale, layer.bias)              # s_x * s_w, plus the bias
            else:
                x = layer.forward(x)
        return x

    def file_contents(self) -> tuple[dict, dict]:
        """(architecture, arrays) for ``save_model``."""
        return self.architecture, self.arrays

    def with_inference(self, mode: str) -> "QuantizedModel":
        """The same weights read by the other inference path."""
        return QuantizedModel({**self.architecture, "inference": mode}, self.arrays, self.preprocessing, self.card)

    def count_params(self) -> int:
        return int(sum(a.size for k, a in self.arrays.items() if k.endswith((".W", ".b"))))


def _quantize_activations(x: np.ndarray, inv_scale: np.float32) -> np.ndarray:
    """round(x / s_x) clipped to [-127, 127], row ranges on the engine's threads."""
    x_q = np.empty_like(x)

    def rows(a, b):
        np.multiply(x[a:b], inv_scale, out=x_q[a:b])
        np.rint(x_q[a:b], out=x_q[a:b])
        np.clip(x_q[a:b], -127, 127, out=x_q[a:b])
    map_rows(rows, x.shape[0], x[:1].size)
    return x_q


def _rescale(acc: np.ndarray, out_scale: np.ndarray, bias: np.ndarray) -> None:
    """The int32 accumulator back to float, in place: acc * s_x * s_w + b."""
    def rows(a, b):
        acc[a:b] *= out_scale
        acc[a:b] += bias
    map_rows(rows, acc.shape[0], acc[:1].size)


def _forward_packed(layer, x_q: np.ndarray) -> np.ndarray:
    """The int8 accumulator of a Conv2D/Dense through ``packed_gemm`` (no BLAS needed); bias not added."""
    x64 = x_q.astype(np.float64)
    if isinstance(layer, Dense):
        return packed_gemm(x64, layer.w_packed, np.empty((len(x64), layer.out_features), np.float32))
    n = x64.shape[0]
    ho, wo, f = layer.output_shape(x64.shape[1:])
    y = np.empty((n, ho, wo, f), np.float32)
    def chunk(a, b):  # the same image chunks as the float Conv2D.forward
        cols = im2col(x64[a:b], layer.kernel, layer.stride, layer.padding, thread_scratch(layer._scratch))
        packed_gemm(cols.reshape(-1, layer.w_packed.shape[1]), layer.w_packed, y[a:b].reshape(-1, f))
    map_spans(chunk, spans(n, layer._chunk(x64.shape)))
    return y


def quantize(model: Sequential, calibration_images: np.ndarray, method: str = "max",
             inference: str = "int8") -> QuantizedModel:
    """Post-training int8 quantization of a trained float ``model``.

    ``calibration_images``: float32 (N, 28, 28) in [0, 1], a few hundred training images.
    """
    folded = fold_batchnorm(model)
    x = calibration_images.reshape((len(calibration_images),) + folded.input_shape).astype(np.float32)
    x_scales = iter(calibrate(folded, x, method))
    arrays = {}
    for i, layer in enumerate(folded.layers):
        if isinstance(layer, (Conv2D, Dense)):
            arrays[f"{i}.W"], arrays[f"{i}.W_scale"] = quantize_weights(layer.params["W"])
            arrays[f"{i}.b"] = layer.params["b"].astype(np.float32)
            arrays[f"{i}.x_scale"] = np.array(next(x_scales), np.float32)
    architecture = {"kind": "int8", "inference": inference, "calibration": method, **folded.config()}
    return QuantizedModel(architecture, arrays, getattr(model, "preprocessing", None), model.card)
