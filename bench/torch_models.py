"""PyTorch twins of the engine's architectures: same layers, sizes, order and initialization scheme.

Each engine layer names its own twin (``Layer.pytorch_twin``); this file only
stacks them and initializes them as the engine does. Used only as a benchmark
reference; the engine never imports PyTorch.
"""

from engine.model import Sequential


def build(torch, config: dict):
    """A torch.nn.Sequential equivalent to an engine architecture config (NCHW instead of NHWC)."""
    nn = torch.nn
    engine_model = Sequential.from_config(config)
    layers, shape = [], engine_model.input_shape
    for layer in engine_model.layers:
        layers.append(layer.pytorch_twin(nn, shape))
        shape = layer.output_shape(shape)
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def input_shape(config: dict) -> tuple:
    """Per-sample input shape for PyTorch: (784,) or (1, 28, 28)."""
    shape = tuple(config["input_shape"])
    return shape if len(shape) == 1 else (shape[2], shape[0], shape[1])
