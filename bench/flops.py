"""Floating-point operations of a training step, counted from the architecture (GEMM work only).

Per image: a Conv2D forward is 2*Ho*Wo*k*k*Cin*Cout flops, a Dense 2*in*out. Backward
does the same work twice (dL/dW and dL/dx), except that the first layer needs no
dL/dx. Element-wise layers (BatchNorm, ReLU, pooling) are left out: they are
memory-bound and small next to the products, so the efficiency figure is a slight
underestimate of the arithmetic the machine actually did.
"""

from engine.layers.conv2d import conv_output_size


def forward_flops(config: dict) -> list[int]:
    """Forward flops per image of each Conv2D/Dense layer, in order."""
    shape = tuple(config["input_shape"])
    out = []
    for c in config["layers"]:
        t = c["type"]
        if t == "Conv2D":
            h, w, _ = shape
            k, s, p = c["kernel"], c.get("stride", 1), c.get("padding", 0)
            ho, wo = conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)
            out.append(2 * ho * wo * k * k * c["in_channels"] * c["out_channels"])
            shape = (ho, wo, c["out_channels"])
        elif t == "Dense":
            out.append(2 * c["in_features"] * c["out_features"])
            shape = (c["out_features"],)
        elif t == "MaxPool2D":
            shape = (shape[0] // c["size"], shape[1] // c["size"], shape[2])
        elif t == "Flatten":
            shape = (shape[0] * shape[1] * shape[2],)
    return out


def training_step_flops(config: dict, batch_size: int) -> int:
    per_layer = forward_flops(config)
    per_image = sum(per_layer) + sum(2 * f for f in per_layer) - per_layer[0]
    return per_image * batch_size
