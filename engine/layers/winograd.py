"""Winograd F(2x2, 3x3): a 3x3, stride-1, padding-1 convolution as 16 matrix products.

Lavin and Gray's minimal filtering: every 4x4 input tile (tiles overlap, stride 2) becomes
V = Bᵀ d B, every kernel U = G g Gᵀ, and a 2x2 output tile is Y = Aᵀ (U ⊙ V) A. Summed over
input channels, each of the 16 positions of U ⊙ V is one product (tiles x C_in) @ (C_in x C_out),
so a tile costs 16 multiply-adds per channel pair instead of 36 (2.25x fewer flops). Training
uses it for both backward products too: dL/dU = Vᵀ dL/dM (then dL/dW = Gᵀ dL/dU G) and
dL/dV = dL/dM Uᵀ, whose adjoint transform gives dL/dx; the forward's V is kept for the first.

The transforms are sums and differences only. They run on the padded image's four parity
planes (even/odd rows x even/odd columns), where a tile's 4 rows are 2 rows of each parity,
so every step is a whole-array add of shifted slices with long contiguous runs; only the
split into planes and the merge back are strided copies (C floats per run).

Layout: x (n, H, W, C) channels-last with H and W even; tiles (16, n, H/2, W/2, C), position
k = 4*ξ + ν (ξ along rows, ν along columns). The functions work on one chunk of images.
"""

import numpy as np

from .im2col import scratch_buffer

# Transform matrices (for reference and the tests; the code below spells out their ±1 entries).
BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float32)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float32)
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float32)

# dL/dM is kept as D with dL/dM[ξ, ν] = SIGN[ξ] * SIGN[ν] * D[ξ, ν]: A's two -1 entries become
# sign flips folded into the small U and dL/dU, sparing two passes over the big arrays.
SIGN = np.array([1, 1, 1, -1], np.float32)


def applies(kernel: int, stride: int, padding: int, height: int, width: int, in_channels: int) -> bool:
    """Whether a convolution takes this path: 3x3, stride 1, padding 1, even image sides, and more
    than one input channel (with one, each of the 16 products would be an outer product)."""
    return (kernel, stride, padding) == (3, 1, 1) and height % 2 == 0 and width % 2 == 0 and in_channels > 1


def filter_tiles(w: np.ndarray) -> np.ndarray:
    """U = G g Gᵀ for every (C_in, C_out) pair: (3, 3, C, F) -> (16, C, F)."""
    g = G.astype(w.dtype)
    c, f = w.shape[2:]
    return np.einsum("xi,ijcf,yj->xycf", g, w, g).reshape(16, c, f)


def filter_gradient(du: np.ndarray) -> np.ndarray:
    """dL/dW = Gᵀ dL/dU G: (16, C, F) -> (3, 3, C, F)."""
    g = G.astype(du.dtype)
    return np.einsum("xi,xycf,yj->ijcf", g, du.reshape((4, 4) + du.shape[1:]), g)


def _cut(a: np.ndarray, axis: int, start: int, stop: int | None) -> np.ndarray:
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


# Each step below is one NumPy call over a whole chunk, for all parities or positions at once:
# two threads that issue many small calls spend their time handing the GIL to each other.


def _forward_stage(src: np.ndarray, out: np.ndarray, axis: int) -> None:
    """One 1-D input transform Bᵀ along ``axis``: ``src`` (2, ...) holds the even and odd samples of
    the padded signal (t + 1 each), ``out`` (4, ...) the tiles' transformed rows (t each):
    (x0 - x2, x1 + x2, x2 - x1, x1 - x3), with x0, x2 even samples and x1, x3 odd ones."""
    t = src.shape[axis] - 1
    np.subtract(_cut(src, axis, 0, t), _cut(src, axis, 1, None), out=out[0::3])  # rows 0 and 3
    e1, o0 = _cut(src[0], axis - 1, 1, None), _cut(src[1], axis - 1, 0, t)
    np.add(o0, e1, out=out[1])
    np.subtract(e1, o0, out=out[2])


def _adjoint_stage(grad: np.ndarray, src_grad: np.ndarray, axis: int, scratch: dict, name: str) -> None:
    """The adjoint of ``_forward_stage``: ``grad`` (4, ...) of its outputs, summed into ``src_grad``
    (2, ...), the even and odd samples they came from (neighbouring tiles share two samples):
    even sample t gets g0 from tile t and (g1 + g2 - g0) from tile t - 1; odd sample t gets
    (g1 - g2 + g3) from tile t and -g3 from tile t - 1. Six whole-array passes, no copies."""
    g0, g1, g2, g3 = grad
    t = g0.shape[axis - 1]
    parts = scratch_buffer(scratch, name, (2,) + g0.shape, grad.dtype)
    tail, head = parts  # tail: the next even sample's share; head: this odd sample's
    np.add(g1, g2, out=tail)
    tail -= g0
    np.subtract(g1, g2, out=head)
    head += g3
    even, odd = src_grad
    k = axis - 1  # the tile axis of one parity's arrays
    np.copyto(_cut(even, k, 0, 1), _cut(g0, k, 0, 1))
    np.add(_cut(g0, k, 1, None), _cut(tail, k, 0, t - 1), out=_cut(even, k, 1, t))
    np.copyto(_cut(even, k, t, None), _cut(tail, k, t - 1, None))
    np.copyto(_cut(odd, k, 0, 1), _cut(head, k, 0, 1))
    np.subtract(_cut(head, k, 1, None), _cut(g3, k, 0, t - 1), out=_cut(odd, k, 1, t))
    np.negative(_cut(g3, k, t - 1, None), out=_cut(odd, k, t, None))


def _planes(x: np.ndarray, scratch: dict) -> np.ndarray:
    """The padded image's parity planes (2 row parities, 2 column parities, n, H/2+1, W/2+1, C);
    their zero borders are the padding, written once per buffer."""
    n, h, w, c = x.shape
    th, tw = h // 2, w // 2
    p = scratch_buffer(scratch, "planes", (2, 2, n, th + 1, tw + 1, c), x.dtype, zero=True)
    # padded row 2a is image row 2a-1 (a >= 1), padded row 2a+1 is image row 2a (a < th); columns alike
    np.copyto(p[0, 0, :, 1:, 1:], x[:, 1::2, 1::2])
    np.copyto(p[0, 1, :, 1:, :tw], x[:, 1::2, 0::2])
    np.copyto(p[1, 0, :, :th, 1:], x[:, 0::2, 1::2])
    np.copyto(p[1, 1, :, :th, :tw], x[:, 0::2, 0::2])
    return p


def input_tiles(x: np.ndarray, scratch: dict, out: np.ndarray | None = None) -> np.ndarray:
    """V = Bᵀ d B for every 4x4 tile of x padded by 1: (n, H, W, C) -> (16, n, H/2, W/2, C)."""
    n, h, w, c = x.shape
    th, tw = h // 2, w // 2
    p = _planes(x, scratch)
    cols = scratch_buffer(scratch, "columns", (4, 2, n, th + 1, tw, c), x.dtype)  # (ν, row parity, ...)
    _forward_stage(p.swapaxes(0, 1), cols, axis=4)
    v = np.empty((4, 4, n, th, tw, c), x.dtype) if out is None else out.reshape(4, 4, n, th, tw, c)
    _forward_stage(cols.swapaxes(0, 1), v, axis=3)
    return v.reshape(16, n, th, tw, c)


def input_gradient(dv: np.ndarray, dx: np.ndarray, scratch: dict) -> None:
    """dL/dx from dL/dV (16, n, H/2, W/2, C), into ``dx`` (n, H, W, C): the adjoint of ``input_tiles``."""
    _, n, th, tw, c = dv.shape
    cols = scratch_buffer(scratch, "columns_grad", (2, 4, n, th + 1, tw, c), dv.dtype)  # (row parity, ν, ...)
    _adjoint_stage(dv.reshape(4, 4, n, th, tw, c), cols, axis=3, scratch=scratch, name="rows_parts")
    p = scratch_buffer(scratch, "planes_grad", (2, 2, n, th + 1, tw + 1, c), dv.dtype)  # (column parity, row parity)
    _adjoint_stage(cols.swapaxes(0, 1), p, axis=4, scratch=scratch, name="columns_parts")
    np.copyto(dx[:, 1::2, 1::2], p[0, 0, :, 1:, 1:])  # the planes' borders are the padding: dropped
    np.copyto(dx[:, 1::2, 0::2], p[1, 0, :, 1:, :tw])
    np.copyto(dx[:, 0::2, 1::2], p[0, 1, :, :th, 1:])
    np.copyto(dx[:, 0::2, 0::2], p[1, 1, :, :th, :tw])


def output_from_tiles(m: np.ndarray, bias: np.ndarray, y: np.ndarray, scratch: dict) -> None:
    """y = Aᵀ M A + b, into ``y`` (n, H, W, F), from M (16, n, H/2, W/2, F); M is overwritten."""
    _, n, th, tw, f = m.shape
    m = m.reshape(4, 4, n, th, tw, f)
    m[1, 1] += bias  # M[1,1] reaches each of the four outputs once, with sign +1
    u = scratch_buffer(scratch, "rows_out", (2, 4, n, th, tw, f), m.dtype)  # (output row, ν, ...)
    np.add(m[0], m[1], out=u[0])
    u[0] += m[2]
    np.subtract(m[1], m[2], out=u[1])
    u[1] -= m[3]
    tmp = scratch_buffer(scratch, "tmp_out", (2, n, th, tw, f), m.dtype)
    y6 = y.reshape(n, th, 2, tw, 2, f).transpose(4, 2, 0, 1, 3, 5)  # (output column, output row, n, th, tw, F)
    np.add(u[:, 0], u[:, 1], out=tmp)
    np.add(tmp, u[:, 2], out=y6[0])
    np.subtract(u[:, 1], u[:, 2], out=tmp)
    np.subtract(tmp, u[:, 3], out=y6[1])


def output_gradient(dy: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """D (16, n, H/2, W/2, F) from dL/dy (n, H, W, F), with dL/dM = A dL/dY Aᵀ = SIGN ⊗ SIGN ⊙ D."""
    n, h, w, f = dy.shape
    th, tw = h // 2, w // 2
    d = np.empty((4, 4, n, th, tw, f), dy.dtype) if out is None else out.reshape(4, 4, n, th, tw, f)
    np.copyto(d[0::3, 0::3], dy.reshape(n, th, 2, tw, 2, f).transpose(2, 4, 0, 1, 3, 5))
    np.add(d[0, 0::3], d[3, 0::3], out=d[1, 0::3])
    np.subtract(d[0, 0::3], d[3, 0::3], out=d[2, 0::3])
    np.add(d[:, 0], d[:, 3], out=d[:, 1])
    np.subtract(d[:, 0], d[:, 3], out=d[:, 2])
    return d.reshape(16, n, th, tw, f)


def signs(dtype) -> np.ndarray:
    """SIGN[ξ] * SIGN[ν] for the 16 positions, shaped to scale (16, C, F) arrays."""
    return np.outer(SIGN, SIGN).astype(dtype).reshape(16, 1, 1)
