"""PyTorch twins of the engine's architectures: same layers, sizes, order and initialization scheme.

Used only as a benchmark reference; the engine never imports PyTorch.
"""


def build(torch, config: dict):
    """A torch.nn.Sequential equivalent to an engine architecture config (NCHW instead of NHWC)."""
    nn = torch.nn
    layers = []
    for c in config["layers"]:
        t = c["type"]
        if t == "Dense":
            layers.append(nn.Linear(c["in_features"], c["out_features"]))
        elif t == "Conv2D":
            layers.append(nn.Conv2d(c["in_channels"], c["out_channels"], c["kernel"], c.get("stride", 1),
                                    c.get("padding", 0)))
        elif t == "BatchNorm":
            # The engine's BatchNorm follows both Dense and Conv2D layers.
            after_conv = any(isinstance(m, nn.Conv2d) for m in layers) and not any(
                isinstance(m, nn.Flatten) for m in layers)
            layers.append((nn.BatchNorm2d if after_conv else nn.BatchNorm1d)(c["channels"], momentum=0.1,
                                                                            eps=c.get("eps", 1e-5)))
        elif t == "ReLU":
            layers.append(nn.ReLU())
        elif t == "MaxPool2D":
            layers.append(nn.MaxPool2d(c["size"]))
        elif t == "Dropout":
            layers.append(nn.Dropout(c["rate"]))
        elif t == "Flatten":
            layers.append(nn.Flatten())
        else:
            raise ValueError(f"no PyTorch twin for layer type {t}")
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def input_shape(config: dict) -> tuple:
    """Per-sample input shape for PyTorch: (784,) or (1, 28, 28)."""
    return (784,) if config["input_shape"] == [784] else (1, 28, 28)
