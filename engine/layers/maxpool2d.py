"""Non-overlapping max pooling on NHWC images (window = stride = ``size``)."""

import numpy as np

from ..parallel import map_rows
from . import config_fields as fields
from .base import Layer, LayerSpec


class MaxPool2D(Layer):
    """x (N, H, W, C) -> y (N, H//s, W//s, C); trailing rows/columns that do not fill a window are dropped.

    The window is never materialized: each of the s*s window positions is a strided
    view of x, and the maximum is taken view by view. Backward sends each output's
    gradient to the inputs equal to it, shared equally between ties so the total is
    preserved (found again by one comparison with the maxima: cheaper than keeping an
    argmax, and ties, common among a ReLU's zeros, stay shared).
    """

    # Set by Sequential when the input is a ReLU's output (y >= 0): windows whose maximum is 0 then
    # send no gradient (the ReLU passes none there), so the BatchNorm before can skip its ReLU mask.
    after_relu = False

    def __init__(self, size: int = 2):
        super().__init__()
        self.size = int(size)

    def _offsets(self, x):
        """Strided views of x, one per position (i, j) in the window, each (N, Ho, Wo, C)."""
        s = self.size
        ho, wo = x.shape[1] // s, x.shape[2] // s
        return [x[:, i : ho * s : s, j : wo * s : s, :] for i in range(s) for j in range(s)]

    def forward(self, x, training=False, rng=None):
        n, h, w, c = x.shape
        y = np.empty((n, h // self.size, w // self.size, c), x.dtype)

        def images(a, b):
            views = self._offsets(x[a:b])
            np.copyto(y[a:b], views[0])
            for view in views[1:]:
                np.maximum(y[a:b], view, out=y[a:b])

        map_rows(images, n, x[:1].size)
        self._x: np.ndarray | None = x if training else None
        self._y: np.ndarray | None = y if training else None
        return y

    def backward(self, dLdy):
        x, y = self._x, self._y
        assert x is not None and y is not None, "backward needs a forward with training=True first"
        dtype = np.result_type(x.dtype, dLdy.dtype, np.float32)  # a gradient is never integer
        uncovered = x.shape[1] % self.size or x.shape[2] % self.size  # rows/columns no window reaches
        dx = (np.zeros if uncovered else np.empty)(x.shape, dtype)

        def images(a, b):
            # Windows as axes 2 and 4 of a view: one comparison against the broadcast maxima and one
            # product give every window's gradient, with full-size contiguous outputs (~3x faster
            # than a comparison and a product per window position on strided views).
            hits = np.equal(self._windows(x[a:b]), y[a:b, :, None, :, None, :])
            # Ties share the gradient: divided by their count, added up as bytes (bool to float
            # casts made these adds ~2x slower; np.sum over two small axes is slower still).
            ones = hits.view(np.uint8)
            positions = [ones[:, :, i, :, j] for i in range(self.size) for j in range(self.size)]
            count = positions[0].astype(np.uint8 if self.size**2 < 256 else np.int32)  # no overflow
            for hit in positions[1:]:
                count += hit
            share = np.divide(dLdy[a:b], count, dtype=dtype)
            if self.after_relu:
                share *= y[a:b] > 0
            np.multiply(hits, share[:, :, None, :, None, :], out=self._windows(dx[a:b]))

        map_rows(images, x.shape[0], x[:1].size)
        self._x = self._y = None
        return dx

    def _windows(self, x):
        """x (N, H, W, C) as (N, Ho, s, Wo, s, C), window rows and columns on axes 2 and 4 (a view)."""
        s = self.size
        ho, wo = x.shape[1] // s, x.shape[2] // s
        return x[:, : ho * s, : wo * s].reshape(x.shape[0], ho, s, wo, s, x.shape[3])

    @classmethod
    def check_config(cls, config):
        fields.only(config, ("size",))
        return {"size": fields.integer(config, "size", 1, 64, default=2)}

    @classmethod
    def spec(cls, config, input_shape):
        size = cls.check_config(config)["size"]
        h, w, c = fields.image_shape(input_shape, "MaxPool2D")
        if h < size or w < size:
            raise ValueError(f"MaxPool2D: a {h}x{w} input is smaller than its {size}x{size} window")
        return LayerSpec((h // size, w // size, c))

    def config(self):
        return {"type": "MaxPool2D", "size": self.size}

    def pytorch_twin(self, nn, input_shape):
        return nn.MaxPool2d(self.size)
