"""The int8 inference twins of Dense and Conv2D: int8 weights, one float32 scale per output channel.

Two paths read the same arrays (``inference``):
- "int8": inputs are quantized with the layer's static scale s_x, int8 x int8 products
  are accumulated exactly and rescaled by s_x * s_w. The accumulation runs as a float32
  GEMM on integer-valued arrays: every product is at most 127*127 and a sum of
  K <= 1040 of them stays below 2**24, where float32 represents every integer exactly,
  so the result is exactly the int32 accumulator while using the fast BLAS kernels
  NumPy has for floats (NumPy's integer matmul has none). Where NumPy has no BLAS (the
  browser) the products run through ``int8_gemm.packed_gemm`` instead, bit for bit the same.
- "dequantized": weights are expanded to float32 once (W_q * s_w) and the layer runs
  in float32; only the weights' rounding error remains.

Each twin wraps the float layer it quantizes, which supplies the shapes and (for
Conv2D) the patch matrices.
"""

import numpy as np

from .. import int8_gemm
from ..initializers import WEIGHTS_COME_LATER
from ..int8_gemm import pack_weight_pairs, packed_gemm
from ..parallel import map_rows
from .base import Layer, LayerSpec
from .conv2d import Conv2D
from .dense import Dense

EXACT_FLOAT32_TERMS = (1 << 24) // (127 * 127)  # 1040: longest exact float32 int8 dot product
INFERENCE_MODES = ("int8", "dequantized")


def quantize_weights(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-channel (last axis) int8 weights and their float32 scales (> 0)."""
    peak = np.abs(w.reshape(-1, w.shape[-1])).max(axis=0)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)  # an all-zero channel keeps scale 1
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale


def quantize_activations(x: np.ndarray, inv_scale: np.float32) -> np.ndarray:
    """round(x / s_x) clipped to [-127, 127] (int8 values held in float32), row ranges on the threads."""
    x_q = np.empty_like(x)

    def rows(a, b):
        np.multiply(x[a:b], inv_scale, out=x_q[a:b])
        np.rint(x_q[a:b], out=x_q[a:b])
        np.clip(x_q[a:b], -127, 127, out=x_q[a:b])

    map_rows(rows, x.shape[0], x[:1].size)
    return x_q


def rescale(acc: np.ndarray, out_scale: np.ndarray, bias: np.ndarray) -> None:
    """The int32 accumulator back to float, in place: acc * s_x * s_w + b."""

    def rows(a, b):
        acc[a:b] *= out_scale
        acc[a:b] += bias

    map_rows(rows, acc.shape[0], acc[:1].size)


class QuantizedLayer(Layer, register=False):
    """Common to both twins; a subclass names the float layer it quantizes in ``float_type``."""

    float_type: type[Layer]

    def __init__(self, **float_arguments):
        super().__init__()
        if self.float_type.takes_rng:
            float_arguments["rng"] = WEIGHTS_COME_LATER  # the file's arrays replace its weights
        self.float_layer = self.float_type(**float_arguments)  # shapes, patches, the float products
        self.stored: dict[str, np.ndarray] = {}  # the file's arrays, as they are in it
        self.inference = "int8"

    @classmethod
    def check_config(cls, config):
        return cls.float_type.check_config(config)

    @classmethod
    def spec(cls, config, input_shape):
        float_spec = cls.float_type.spec(config, input_shape)
        w_shape = float_spec.arrays["W"][1]
        arrays = {
            "W": ("int8", w_shape),
            "W_scale": ("float32", (w_shape[-1],)),  # one scale per output channel
            "b": ("float32", (w_shape[-1],)),
            "x_scale": ("float32", ()),
        }  # static input-activation scale
        return LayerSpec(float_spec.output_shape, arrays, float_spec.flops, float_spec.working)

    def config(self):
        return self.float_layer.config()  # a file says "Dense"; its kind says int8

    @classmethod
    def quantized_arrays(cls, layer: Layer, x_scale: float) -> dict[str, np.ndarray]:
        """The file arrays of float ``layer`` (BatchNorm already folded in) with input scale ``x_scale``."""
        w_q, w_scale = quantize_weights(layer.params["W"])
        return {
            "W": w_q,
            "W_scale": w_scale,
            "b": layer.params["b"].astype(np.float32),
            "x_scale": np.array(x_scale, np.float32),
        }

    def load_arrays(self, arrays: dict[str, np.ndarray], inference: str = "int8") -> None:
        """Take the file's arrays and get ready to run them by the ``inference`` path."""
        if inference not in INFERENCE_MODES:
            raise ValueError(f"unknown inference mode {inference!r}; use one of {INFERENCE_MODES}")
        self.stored = {name: np.asarray(arrays[name]) for name in ("W", "W_scale", "b", "x_scale")}
        self.inference = inference
        w_q, w_scale, b = self.stored["W"], self.stored["W_scale"], self.stored["b"]
        params = self.float_layer.params
        if inference == "dequantized":
            params["W"] = (w_q.astype(np.float32) * w_scale).astype(np.float32)
            params["b"] = b.astype(np.float32)
            return
        terms = w_q[..., 0].size
        if terms > EXACT_FLOAT32_TERMS:
            raise ValueError(
                f"{terms} terms per output exceed the {EXACT_FLOAT32_TERMS} that float32 "
                "accumulates exactly; use the dequantized inference path"
            )
        params["W"] = w_q.astype(np.float32)  # integer values, exact in float32
        params["b"] = np.zeros_like(b)
        self.x_scale = np.float32(self.stored["x_scale"])
        self.inv_x_scale = np.float32(1.0) / self.x_scale
        with np.errstate(over="ignore"):
            self.out_scale = (self.x_scale * w_scale).astype(np.float32)
        if not np.all(np.isfinite(self.out_scale)):
            raise ValueError("its input scale times its weight scales overflows float32; the scales are damaged")
        self.bias = b.astype(np.float32)
        self.w_packed = pack_weight_pairs(w_q) if int8_gemm.PACKED_GEMM else None

    def file_arrays(self) -> dict[str, np.ndarray]:
        return self.stored

    def forward(self, x, training=False, rng=None):
        if self.inference == "dequantized":
            return self.float_layer.forward(x)
        x_q = quantize_activations(x, self.inv_x_scale)
        w_packed = self.w_packed
        acc = (
            self.packed_accumulator(x_q, w_packed) if w_packed is not None else self.float_layer.forward(x_q)
        )  # the exact int32 accumulator
        rescale(acc, self.out_scale, self.bias)  # s_x * s_w, plus the bias
        return acc

    def packed_accumulator(self, x_q: np.ndarray, w_packed: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dLdy):
        raise TypeError("an int8 layer only predicts; train the float model it was quantized from")


class QuantizedDense(QuantizedLayer, int8_twin_of="Dense"):
    float_type = Dense
    float_layer: Dense  # what float_type builds

    def packed_accumulator(self, x_q, w_packed):
        x64 = x_q.astype(np.float64)
        return packed_gemm(x64, w_packed, np.empty((len(x64), self.float_layer.out_features), np.float32))


class QuantizedConv2D(QuantizedLayer, int8_twin_of="Conv2D"):
    float_type = Conv2D
    float_layer: Conv2D  # what float_type builds

    def packed_accumulator(self, x_q, w_packed):
        x64 = x_q.astype(np.float64)
        y = np.empty((len(x64),) + self.float_layer.output_shape(x64.shape[1:]), np.float32)
        # The same image chunks and patches as the float Conv2D.forward.
        self.float_layer.map_patch_chunks(x64, y, lambda cols, out: packed_gemm(cols, w_packed, out))
        return y
