"""The few image filters preprocessing needs, in whole-array numpy (no SciPy).

``scipy.ndimage`` did this job, but importing it costs about half a second of every
``digitkit predict one.png`` (more than the prediction itself), and its per-call overhead
dominates on the small pictures digits come in. Each function here gives the same result
as the ``ndimage`` call named in its docstring (tests/test_morphology.py compares them
when SciPy is installed):

- :func:`opening`, :func:`closing`, :func:`erode`: flat square grey filters, separable
  running minimum and maximum by doubling (log2 of the window whole-array passes);
- :func:`block_min`, :func:`block_max`: the darkest and lightest pixel of each k x k block
  (a shrink that keeps thin dark strokes, or the paper between them);
- :func:`grow`: a 3x3 binary dilation, by shifted ORs;
- :func:`gaussian`: a separable Gaussian blur;
- :func:`large_components`, :func:`label`: 8-connected components (above a share of the
  largest, or numbered), found on run-length segments (a digit has about a hundred) with a
  union-find over runs, never per pixel.
"""

from __future__ import annotations

import numpy as np


def _running(x: np.ndarray, size: int, op: np.ufunc, axis: int) -> np.ndarray:
    """``op`` (np.minimum or np.maximum) over a centred window of ``size`` along ``axis``,
    edges repeated (``mode="nearest"``), by doubling: after step j each element holds ``op``
    over 2**j neighbours, and a window is ``op`` of two such spans that overlap (``op`` is
    idempotent). That is log2(size) + 1 whole-array passes of plain slices, no transpose;
    van Herk / Gil-Werman's constant number of ``op.accumulate`` passes cost 5-13x more
    (numpy accumulates a short axis one small row at a time)."""
    half = size // 2
    pad = [(0, 0), (0, 0)]
    pad[axis] = (half, half)
    span, acc = 1, np.pad(x, pad, mode="edge")

    def part(a: np.ndarray, start: int, stop: int) -> np.ndarray:
        return a[start:stop] if axis == 0 else a[:, start:stop]

    while 2 * span <= size:
        length = acc.shape[axis]
        acc = op(part(acc, 0, length - span), part(acc, span, length))
        span *= 2
    # Window [i, i + size) of the padded line = span at i joined with span at i + size - span.
    width = x.shape[axis]
    return op(part(acc, 0, width), part(acc, size - span, size - span + width))


def _filter2d(x: np.ndarray, size: int, op: np.ufunc) -> np.ndarray:
    return _running(_running(x, size, op, 1), size, op, 0)


def opening(x: np.ndarray, size: int) -> np.ndarray:
    """Grey opening with a flat ``size`` x ``size`` square (``size`` odd), edges repeated.

    Same as ``ndimage.grey_opening(x, size=(size, size), mode="nearest")``.
    """
    if size <= 1:
        return x.copy()
    return np.ascontiguousarray(_filter2d(_filter2d(x, size, np.minimum), size, np.maximum))


def closing(x: np.ndarray, size: int) -> np.ndarray:
    """Grey closing with a flat ``size`` x ``size`` square (``size`` odd), edges repeated.

    Same as ``ndimage.grey_closing(x, size=(size, size), mode="nearest")``.
    """
    if size <= 1:
        return x.copy()
    return np.ascontiguousarray(_filter2d(_filter2d(x, size, np.maximum), size, np.minimum))


def erode(x: np.ndarray, size: int) -> np.ndarray:
    """Grey erosion (minimum) over a flat ``size`` x ``size`` square, edges repeated.

    Same as ``ndimage.grey_erosion(x, size=(size, size), mode="nearest")``.
    """
    if size <= 1:
        return x.copy()
    return np.ascontiguousarray(_filter2d(x, size, np.minimum))


def block_min(x: np.ndarray, k: int) -> np.ndarray:
    """The minimum of each ``k`` x ``k`` block (the last partial rows and columns dropped)."""
    return _blocks(x, k, np.minimum)


def block_max(x: np.ndarray, k: int) -> np.ndarray:
    """The maximum of each ``k`` x ``k`` block (the last partial rows and columns dropped)."""
    return _blocks(x, k, np.maximum)


def _blocks(x: np.ndarray, k: int, op: np.ufunc) -> np.ndarray:
    height, width = x.shape[0] // k, x.shape[1] // k
    # k strided passes per axis: numpy reduces a short trailing axis of k slowly (~8x slower
    # on a 3 MP photo).
    rows = x[:height * k, 0:width * k:k].copy()
    for j in range(1, k):
        op(rows, x[:height * k, j:width * k:k], out=rows)
    out = rows[0::k].copy()
    for i in range(1, k):
        op(out, rows[i::k], out=out)
    return out


def grow(mask: np.ndarray) -> np.ndarray:
    """``mask`` grown by one pixel in all 8 directions (outside counts as False).

    Same as ``ndimage.maximum_filter(mask, size=3, mode="constant") > 0``.
    """
    rows = mask.copy()
    rows[1:] |= mask[:-1]
    rows[:-1] |= mask[1:]
    out = rows.copy()
    out[:, 1:] |= rows[:, :-1]
    out[:, :-1] |= rows[:, 1:]
    return out


def gaussian(x: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Gaussian blur of a 2-D float32 array, edges mirrored (``d c b a | a b c d``).

    Same as ``ndimage.gaussian_filter(x, sigma)`` (to float32 rounding).
    """
    radius = int(truncate * sigma + 0.5)
    if sigma <= 0 or radius < 1:
        return x.astype(np.float32, copy=True)
    taps = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (taps / sigma) ** 2)
    weights = (weights / weights.sum()).astype(np.float32)
    out = x.astype(np.float32, copy=False)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="symmetric")
        length = out.shape[axis]
        acc = np.zeros(out.shape, np.float32)
        for i, weight in enumerate(weights):
            acc += weight * (padded[i:i + length] if axis == 0 else padded[:, i:i + length])
        out = acc
    return out


def runs(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The horizontal runs of ``mask``: ``(stride, begins, ends, row)``.

    The mask is padded with a False column each side of every row (so no run crosses rows)
    and flattened with ``stride`` = width + 2; ``begins``/``ends`` (exclusive) index that flat
    array, in row then column order, and ``row`` is each run's row.
    """
    height, width = mask.shape
    stride = width + 2
    padded = np.zeros((height, stride), dtype=bool)
    padded[:, 1:-1] = mask
    flat = padded.ravel()
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1  # where each run begins, then ends
    begins, ends = edges[0::2], edges[1::2]
    return stride, begins, ends, begins // stride


def large_components(mask: np.ndarray, share: float) -> np.ndarray:
    """The pixels of ``mask`` whose 8-connected component has at least ``share`` times as
    many pixels as the largest component (all of ``mask``, itself, when none is smaller).

    Same as labelling with ``ndimage.label(mask, structure=np.ones((3, 3)))`` and keeping
    the labels whose pixel count is at least ``share`` times the largest count.
    """
    height = mask.shape[0]
    stride, begins, ends, row = runs(mask)
    if begins.size < 2:
        return mask
    start = begins - row * stride
    stop = ends - row * stride
    root = union_runs(row, start, stop)
    sizes = np.bincount(root, weights=stop - start, minlength=root.size)
    small = sizes[root] < share * sizes.max()
    if not small.any():
        return mask
    # Clear the small components' runs: +1 where one starts, -1 where it ends, summed.
    marks = np.zeros(height * stride + 1, dtype=np.int8)
    marks[begins[small]] = 1
    marks[ends[small]] = -1
    cleared = np.cumsum(marks[:-1], dtype=np.int8).reshape(height, stride)[:, 1:-1] > 0
    return mask & ~cleared


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of ``mask``, numbered 1..count (0 outside the mask).

    The same partition as ``ndimage.label(mask, structure=np.ones((3, 3)))``; the numbers
    follow each component's first run in row order, as ndimage numbers them.
    """
    height = mask.shape[0]
    stride, begins, ends, row = runs(mask)
    labels = np.zeros(height * stride, dtype=np.int32)
    if begins.size == 0:
        return np.zeros(mask.shape, np.int32), 0
    root = union_runs(row, begins - row * stride, ends - row * stride)
    roots, number = np.unique(root, return_inverse=True)
    lengths = ends - begins
    # Each run's pixels get its component's number: positions by a cumulative sum of steps.
    steps = np.ones(int(lengths.sum()), dtype=np.intp)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    steps[0] = begins[0]
    steps[starts[1:]] = begins[1:] - ends[:-1] + 1
    labels[np.cumsum(steps)] = np.repeat(number.astype(np.int32) + 1, lengths)
    return labels.reshape(height, stride)[:, 1:-1].copy(), int(roots.size)


def union_runs(row: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """For each run, the index of the first run of its 8-connected component.

    Which runs touch is found in numpy; joining them is a plain union-find in Python: a
    digit has about a hundred runs at the working size, where a loop over lists beats the
    dozens of numpy calls a vectorised union-find needs (each ~2 us whatever its size).
    """
    key_width = int(stop.max()) + 2
    start_keys = row * key_width + start
    stop_keys = row * key_width + stop
    # Run j (row r + 1) touches runs first[j]..last[j] - 1 (row r): start_i <= stop_j and
    # start_j <= stop_i (stops exclusive: diagonal neighbours count). Runs are sorted by
    # row, then column.
    first = np.searchsorted(stop_keys, (row - 1) * key_width + start, side="left").tolist()
    last = np.searchsorted(start_keys, (row - 1) * key_width + stop, side="right").tolist()
    parent = list(range(len(first)))
    # Run j is untouched until its turn (only runs above the current one are joined), so it
    # simply joins the root of the first run it touches; later roots hook to the earlier.
    for j, (lo, hi) in enumerate(zip(first, last)):
        if lo >= hi:
            continue  # touches nothing above: a new component, for now
        root = lo
        while parent[root] != root:  # find, halving the path
            parent[root] = root = parent[parent[root]]
        for i in range(lo + 1, hi):
            while parent[i] != i:
                parent[i] = i = parent[parent[i]]
            if i < root:
                parent[root] = root = i
            elif i > root:
                parent[i] = root
        parent[j] = root
    for j, p in enumerate(parent):  # in index order, a parent already points at its root
        parent[j] = parent[p]
    return np.array(parent, dtype=np.intp)
