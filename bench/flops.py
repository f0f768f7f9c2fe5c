"""Floating-point operations of a training step, counted from the architecture (GEMM work only).

Each layer's ``spec`` gives its forward matrix-product flops per image (a Conv2D
2*Ho*Wo*k*k*Cin*Cout, a Dense 2*in*out, element-wise layers none). Backward does the
same work twice (dL/dW and dL/dx), except that the first layer needs no dL/dx.
Element-wise layers (BatchNorm, ReLU, pooling) are left out: they are memory-bound
and small next to the products, so the efficiency figure is a slight underestimate
of the arithmetic the machine actually did.
"""

from engine.architecture import layer_specs


def forward_flops(config: dict) -> list[int]:
    """Forward flops per image of each layer that does matrix products, in order."""
    return [spec.flops for spec in layer_specs({"kind": "float32", **config}) if spec.flops]


def training_step_flops(config: dict, batch_size: int) -> int:
    per_layer = forward_flops(config)
    per_image = sum(per_layer) + sum(2 * f for f in per_layer) - per_layer[0]
    return per_image * batch_size
