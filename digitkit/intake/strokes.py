"""Stroke measurements for scans that lost the digit's shape: box-stretched and blocky ones.

Several public digit sets were scanned by stretching each digit's bounding box to fill a
16x16 or 32x32 box, losing the aspect ratio; a "1" becomes a square blob. A pen draws
strokes of one width in every direction, so the stretch shows in the strokes: vertical
strokes get wider by the horizontal stretch, horizontal strokes thicker by the vertical
one. :func:`stretch_ratio` measures both thicknesses (per ink pixel, the shorter of its
horizontal and vertical run) and returns their ratio, the factor to undo.
(Binary scans have their own treatment in :mod:`digitkit.intake.boxed`; tiny digits scaled
up are found by :mod:`digitkit.intake.upscaled`.)
"""

from __future__ import annotations

import numpy as np

# A stroke's width as a share of the digit's height when only one direction of stroke can
# be measured (a "1"): measured on MNIST's training digits at the 20-pixel box (median).
STROKE_SHARE = 0.16
MIN_SAMPLES = 6
MAX_RATIO = 4.0


def median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D array, by selection: ``np.median`` imports ``numpy.ma`` on first
    use (~20 ms of a one-image cold start)."""
    size = values.size
    half = size // 2
    if size % 2:
        return float(np.partition(values, half)[half])
    part = np.partition(values, [half - 1, half])
    return float((part[half - 1] + part[half]) / 2)


def percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) by selection: np.percentile calls
    np.unique, which imports ``numpy.ma`` on first use, as ``np.median`` does."""
    flat = np.asarray(values).ravel()
    position = q / 100 * (flat.size - 1)
    low = int(position)
    high = min(low + 1, flat.size - 1)
    part = np.partition(flat, [low, high])
    return float(part[low] + (part[high] - part[low]) * (position - low))


def run_lengths(mask: np.ndarray, axis: int) -> np.ndarray:
    """For each pixel of ``mask``, the length of the run of True it lies in along ``axis``."""
    m = mask if axis == 1 else mask.T
    previous = np.zeros_like(m)
    previous[:, 1:] = m[:, :-1]
    starts = m & ~previous
    ids = np.cumsum(starts.ravel()) * m.ravel()
    lengths = np.bincount(ids)
    lengths[0] = 0
    out = lengths[ids].reshape(m.shape)
    return out if axis == 1 else out.T


def stroke_widths(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widths of vertical strokes (horizontal runs) and of horizontal strokes (vertical runs)."""
    across = run_lengths(mask, 1)
    down = run_lengths(mask, 0)
    return across[mask & (across < down)], down[mask & (down < across)]


def stretch_ratio(mask: np.ndarray) -> float:
    """How much wider than tall the strokes are (>1: the digit was stretched sideways).

    Args:
        mask: the ink (True) of a digit cropped to its bounding box.

    Returns:
        The horizontal over the vertical stretch, in [1/4, 4]; 1 when it cannot be told.
    """
    height, width = mask.shape
    across, down = stroke_widths(mask)
    if across.size >= MIN_SAMPLES and down.size >= MIN_SAMPLES:
        ratio = median(across) / median(down)
    elif across.size >= MIN_SAMPLES:  # vertical strokes only ("1"): compare with the height
        ratio = median(across) / (STROKE_SHARE * height)
    elif down.size >= MIN_SAMPLES:
        ratio = (STROKE_SHARE * width) / median(down)
    else:
        return 1.0
    return float(np.clip(ratio, 1.0 / MAX_RATIO, MAX_RATIO))
