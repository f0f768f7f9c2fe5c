"""8-connected components of a binary image, by union-find over the horizontal runs of its rows.

A handwritten digit at the resolution ``read_number`` works at (at most ~64
pixels tall) has a few hundred runs of ink, so joining runs instead of pixels
keeps the graph small; finding the runs, the touching pairs and the components
(hook and compress over whole arrays, no Python loop per run) is vectorized
NumPy. Runs in row ``r``
and ``r + 1`` are 8-connected when their column ranges overlap or meet at a
corner; because runs are sorted by (row, start) and disjoint within a row, the
partners of each run form one contiguous range, found with two
``searchsorted`` calls over all runs at once.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Components:
    """The components of a mask: a label per pixel and each component's box and area.

    ``labels`` is (H, W) int32, -1 on background and 0..n-1 on ink; boxes are
    (x0, y0, x1, y1) with exclusive ends, so ``mask[y0:y1, x0:x1]`` holds the component.
    """

    labels: np.ndarray  # (H, W) int32
    boxes: np.ndarray  # (n, 4) int64: x0, y0, x1, y1
    areas: np.ndarray  # (n,) int64: ink pixels

    @property
    def count(self) -> int:
        return len(self.areas)


def row_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal horizontal runs of True in a 2-D bool mask: (row, start, end) int64 arrays, end exclusive,
    sorted by row then start."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)  # (h, w + 1): +1 where a run starts, -1 after it ends
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    return rows.astype(np.int64), starts.astype(np.int64), ends.astype(np.int64)


def _touching_run_pairs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) index pairs of runs where b is in the row below a and the two are 8-connected."""
    stride = int(ends.max()) + 3 if len(ends) else 1  # keys (row, column) -> row * stride + column
    start_keys, end_keys = rows * stride + starts, rows * stride + ends
    below = (rows + 1) * stride
    # b touches a when start_b <= end_a (end exclusive: corner contact) and end_b >= start_a.
    first = np.searchsorted(end_keys, below + starts, side="left")
    stop = np.searchsorted(start_keys, below + ends, side="right")
    counts = np.maximum(stop - first, 0).astype(np.intp)  # np.repeat wants intp counts (int32 in wasm)
    a = np.repeat(np.arange(len(rows)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return a, np.repeat(first, counts) + offsets


def _smallest_connected(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of n nodes, the smallest node connected to it through the edges (a[k], b[k]).

    Hook and compress, vectorized: every root takes the smallest root across its edges, then every node
    jumps to its root's root until nothing moves. Labels only decrease, so this ends, with one label,
    the smallest node, per component; a few rounds for the run graphs of a digit.
    """
    label = np.arange(n)
    while len(a):
        la, lb = label[a], label[b]
        low = np.minimum(la, lb)
        hooked = label.copy()
        np.minimum.at(hooked, la, low)
        np.minimum.at(hooked, lb, low)
        while True:
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, label):
            break
        label = hooked
    return label


def label_components(mask: np.ndarray) -> Components:
    """Label the 8-connected components of a 2-D bool mask, numbered in order of their first run
    (top to bottom, then left to right)."""
    mask = np.asarray(mask, bool)
    h, w = mask.shape
    rows, starts, ends = row_runs(mask)
    a, b = _touching_run_pairs(rows, starts, ends)
    roots = _smallest_connected(len(rows), a, b)
    _, run_label = np.unique(roots, return_inverse=True)  # roots are first runs: ascending = first-run order
    run_label = run_label.reshape(-1)
    n = int(run_label.max()) + 1 if len(rows) else 0
    lengths = (ends - starts).astype(np.intp)
    labels = np.full(h * w, -1, np.int32)
    flat_start = rows * w + starts
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    labels[np.repeat(flat_start, lengths) + offsets] = np.repeat(run_label, lengths)
    boxes = np.empty((n, 4), np.int64)
    boxes[:, 0] = boxes[:, 1] = np.iinfo(np.int64).max
    boxes[:, 2] = boxes[:, 3] = -1
    np.minimum.at(boxes[:, 0], run_label, starts)
    np.minimum.at(boxes[:, 1], run_label, rows)
    np.maximum.at(boxes[:, 2], run_label, ends)
    np.maximum.at(boxes[:, 3], run_label, rows + 1)
    areas = np.bincount(run_label, weights=lengths, minlength=n).astype(np.int64)
    return Components(labels.reshape(h, w), boxes, areas)
