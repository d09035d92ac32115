"""From a grey picture to ink: bright strokes on black, a mask of them, printed lines removed.

The intake's :func:`~digitkit.intake.preprocess_image` does this for one digit and crops to
it; a number needs the whole picture kept in place, so this is the picture-wide version:
invert paper, take away uneven light (a block-median background, which also follows a
shadow across a sheet), threshold by Otsu, then remove a form's printed lines (rules under
or over the digits, the borders of a comb of boxes) without cutting the strokes they cross.
"""

from __future__ import annotations

import numpy as np

# np.median and np.percentile import numpy.ma (~10 ms of a cold read): by selection instead.
from digitkit.intake.strokes import median, percentile

# Ink must stand out from the paper by this much (0..1 grey).
MIN_CONTRAST = 0.08
# Background blocks: the paper's level is a low percentile of each block's ink (most of a
# block is paper; a thick stroke may still fill a good part of one).
BLOCKS = 12
PAPER_SHARE = 30
# Paper whose border varies less than this (10th to 90th percentile) is evenly lit.
FLAT_PAPER = 0.03
# A horizontal run is a printed line when it is at least this share of the picture's width
# and this many times the height of the ink that is not on such rows (one digit's "7" bar
# in a tight crop is long against the width, never against the height).
LINE_WIDTH_SHARE = 0.5
LINE_HEIGHT_RATIO = 1.5
# A ruled line is thin: rows of a line stack no deeper than this share of the ink height.
LINE_MAX_THICKNESS = 0.2


def unit_grey(grey: np.ndarray) -> np.ndarray:
    """float32 grey in [0, 1] (0 = black) from uint8 or float input."""
    if grey.dtype == np.uint8:
        return grey.astype(np.float32) / 255.0
    return np.clip(np.nan_to_num(grey.astype(np.float32, copy=False)), 0.0, 1.0)


def ink_of(grey: np.ndarray) -> np.ndarray:
    """Ink levels in [0, 1], bright on black, with the paper's uneven light taken away."""
    g = unit_grey(grey)
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    light = float(median(border)) > 0.5
    ink = 1.0 - g if light else g
    edge = 1.0 - border if light else border
    if float(percentile(edge, 90) - percentile(edge, 10)) > FLAT_PAPER:
        ink = ink - _background(ink)  # only uneven paper pays for the background (ms)
    else:
        ink = ink - float(median(edge))
    np.clip(ink, 0.0, None, out=ink)
    top = float(percentile(ink, 99.7)) if ink.size else 0.0
    if top < MIN_CONTRAST:
        return np.zeros_like(ink)
    return np.minimum(ink / top, 1.0)


def _background(ink: np.ndarray) -> np.ndarray:
    """The paper's level everywhere: block levels, smoothly interpolated (bilinear)."""
    h, w = ink.shape
    side = max(32, min(h, w) / 3)  # blocks much larger than a stroke: mostly paper
    by, bx = max(1, min(BLOCKS, int(h / side))), max(1, min(BLOCKS * 4, int(w / side)))
    if by * bx == 1:
        return np.full_like(ink, float(median(ink)))
    ys = np.linspace(0, h, by + 1).astype(int)
    xs = np.linspace(0, w, bx + 1).astype(int)
    grid = np.array([[percentile(ink[ys[i]:ys[i + 1], xs[j]:xs[j + 1]], PAPER_SHARE) for j in range(bx)]
                     for i in range(by)], np.float32)
    # Each block's median stands at its centre; interpolate between centres.
    cy, cx = (ys[:-1] + ys[1:]) / 2, (xs[:-1] + xs[1:]) / 2
    rows = np.array([np.interp(np.arange(h), cy, grid[:, j]) for j in range(bx)]).T  # (h, bx)
    return np.array([np.interp(np.arange(w), cx, r) for r in rows], np.float32)


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of values in [0, 1]."""
    hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    hist = hist.astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 0.5
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * centres)
    between = (mean[-1] * weight - mean * total) ** 2 / np.maximum(weight * (total - weight), 1e-12)
    return float(centres[int(np.argmax(between))])


def ink_mask(ink: np.ndarray) -> np.ndarray:
    """Which pixels are ink: above Otsu's threshold over the pixels that hold any ink."""
    some = ink[ink > MIN_CONTRAST]
    if some.size == 0:
        return np.zeros(ink.shape, bool)
    return ink > max(MIN_CONTRAST, 0.6 * otsu(some))


def run_lengths(mask: np.ndarray) -> np.ndarray:
    """For each pixel, the length of the horizontal run of True it lies in (0 elsewhere)."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), bool)
    padded[:, 1:-1] = mask
    flat = padded.ravel()
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    begins, ends = edges[0::2], edges[1::2]
    marks = np.zeros(flat.size + 1, np.int64)
    np.add.at(marks, begins, ends - begins)
    np.add.at(marks, ends, -(ends - begins))
    return np.cumsum(marks[:-1]).reshape(h, w + 2)[:, 1:-1]


def remove_lines(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mask without a form's printed lines, and the mask of what was removed.

    Horizontal lines first (long runs, see :data:`LINE_WIDTH_SHARE`), then the vertical
    borders of boxes: vertical runs that reach from one removed line to another. Where a
    line crosses a stroke (ink right above and below it), the crossing is kept.
    """
    h, w = mask.shape
    if h < 3 or w < 3 or not mask.any():
        return mask, np.zeros_like(mask)
    lengths = run_lengths(mask)
    long_rows = (lengths >= LINE_WIDTH_SHARE * w).any(axis=1)
    if not long_rows.any():
        return mask, np.zeros_like(mask)
    rest_rows = np.flatnonzero(mask.any(axis=1) & ~long_rows)
    extent = rest_rows[-1] - rest_rows[0] + 1 if rest_rows.size else 0
    threshold = max(LINE_WIDTH_SHARE * w, LINE_HEIGHT_RATIO * extent)
    line = (lengths >= threshold) & long_rows[:, None]
    if not line.any():
        return mask, np.zeros_like(mask)
    line |= _box_borders(mask, line)
    kept = mask & ~line
    # Keep the pixels where a stroke crosses a line: ink within a few rows above and below.
    reach = max(2, int(round(LINE_MAX_THICKNESS * max(extent, 1) / 2)))
    above = np.zeros_like(mask)
    below = np.zeros_like(mask)
    for d in range(1, reach + 1):
        above[d:] |= kept[:-d]
        below[:-d] |= kept[d:]
    crossing = line & above & below & _horizontal(line)
    return kept | crossing, line & ~crossing


def _horizontal(line: np.ndarray) -> np.ndarray:
    """Pixels of horizontal lines (rows with many line pixels), not vertical borders."""
    return line.sum(axis=1, keepdims=True) > 0.3 * line.shape[1]


def _box_borders(mask: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Vertical runs of ink joining two horizontal lines (a box's sides), at most 3 px wide."""
    rows = np.flatnonzero(line.any(axis=1))
    # Group line rows into lines; borders join consecutive lines.
    groups = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    borders = np.zeros_like(mask)
    for upper, lower in zip(groups, groups[1:]):
        top, bottom = upper[-1] + 1, lower[0]  # the rows strictly between the two lines
        if bottom - top < 3:
            continue
        column_full = mask[top:bottom].all(axis=0)
        columns = np.flatnonzero(column_full)
        if columns.size == 0:
            continue
        for run in np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1):
            if run.size <= 3:
                borders[upper[0]:lower[-1] + 1, run[0]:run[-1] + 1] = True
    return borders & mask
