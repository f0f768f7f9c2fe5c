"""The two architectures the command line trains, as layer configs.

Configs, not objects: they are saved as JSON inside model files and rebuilt by
``Sequential.from_config``. The CNN is sized for the shipped int8 file
(<= 120 KB, so about 100k weights) and for a 2-core CPU.
"""


def mlp_config(outputs: int = 10) -> dict:
    """784-512-256-10 with BatchNorm, ReLU and dropout (``outputs=11`` adds "not a digit")."""
    return {
        "input_shape": [784],
        "layers": [
            {"type": "Dense", "in_features": 784, "out_features": 512},
            {"type": "BatchNorm", "channels": 512},
            {"type": "ReLU"},
            {"type": "Dropout", "rate": 0.2},
            {"type": "Dense", "in_features": 512, "out_features": 256},
            {"type": "BatchNorm", "channels": 256},
            {"type": "ReLU"},
            {"type": "Dropout", "rate": 0.2},
            {"type": "Dense", "in_features": 256, "out_features": outputs},
        ],
    }


def _conv_block(c_in: int, c_out: int, kernel: int = 3, padding: int = 1) -> list[dict]:
    return [
        {"type": "Conv2D", "in_channels": c_in, "out_channels": c_out, "kernel": kernel, "padding": padding},
        {"type": "BatchNorm", "channels": c_out},
        {"type": "ReLU"},
    ]


def _seven_by_seven_head(outputs: int) -> list[dict]:
    """Both CNNs' last stage, from 7x7x64: a valid 3x3 convolution to 5x5, a pool to 2x2, the classifier."""
    return [
        *_conv_block(64, 64, padding=0),  # 5x5x64
        {"type": "MaxPool2D", "size": 2},  # 2x2x64
        {"type": "Flatten"},
        {"type": "Dropout", "rate": 0.3},
        {"type": "Dense", "in_features": 256, "out_features": outputs},
    ]


def cnn_config(outputs: int = 10) -> dict:
    """Two conv stages (28x28 then 14x14), a third at 7x7, then a small classifier head.

    The 28x28 stage is the costly one (most pixels), so it is the narrowest. ``outputs=11``
    adds the "not a digit" output (engine/rejection.py)."""
    return {
        "input_shape": [28, 28, 1],
        "layers": [
            *_conv_block(1, 16),
            *_conv_block(16, 32),
            {"type": "MaxPool2D", "size": 2},  # 14x14x32
            *_conv_block(32, 64),
            *_conv_block(64, 64),
            {"type": "MaxPool2D", "size": 2},  # 7x7x64
            *_seven_by_seven_head(outputs),
        ],
    }


def cnn_lite_config(outputs: int = 10) -> dict:
    """The CNN's weights (~100k) with half its multiply-adds: one layer at 28x28, then 14x14 and 7x7."""
    return {
        "input_shape": [28, 28, 1],
        "layers": [
            *_conv_block(1, 16),
            {"type": "MaxPool2D", "size": 2},  # 14x14x16
            *_conv_block(16, 32),
            *_conv_block(32, 64),
            {"type": "MaxPool2D", "size": 2},  # 7x7x64
            *_conv_block(64, 64),
            *_seven_by_seven_head(outputs),
        ],
    }


ARCHITECTURES = {"mlp": mlp_config, "cnn": cnn_config, "cnn-lite": cnn_lite_config}
