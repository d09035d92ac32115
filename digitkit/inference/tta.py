"""Test-time augmentation (``predict --tta``): a digit seen a few ways, probabilities averaged.

Each 28x28 digit is also shown to the model shifted by one pixel each way and scaled by
0.9 and 1.1 about its centre, and the calibrated probabilities of the seven views are
averaged. A digit the intake centred a pixel off, or sized a little unlike MNIST's 20 px,
then gets the answer of its better-placed views. It costs seven model calls per digit, so
it is off by default; docs/predict.md has the measured gain and cost.

Whole-array numpy (no SciPy, no TensorFlow): the views are gathers through index tables
made once per digit size.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np

SHIFTS = ((0, 1), (0, -1), (1, 0), (-1, 0))  # (rows, columns), one pixel each way
SCALES = (0.9, 1.1)
VIEWS = 1 + len(SHIFTS) + len(SCALES)


def shifted(x: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``x`` (N, side, side) moved by whole pixels; what leaves the box is lost, zeros come in."""
    out = np.zeros_like(x)
    side_r, side_c = x.shape[1], x.shape[2]
    out[:, max(rows, 0):side_r + min(rows, 0), max(cols, 0):side_c + min(cols, 0)] = \
        x[:, max(-rows, 0):side_r + min(-rows, 0), max(-cols, 0):side_c + min(-cols, 0)]
    return out


@lru_cache(maxsize=8)
def _scale_taps(side: int, factor: float) -> tuple[np.ndarray, ...]:
    """Bilinear taps of a zoom by ``factor`` about the box's centre, into a zero-padded box."""
    centre = (side - 1) / 2.0
    source = (np.arange(side, dtype=np.float64) - centre) / factor + centre
    low = np.floor(source)
    weight = (source - low).astype(np.float32)
    # Indices into the box padded by one zero pixel each side: taps outside read zero.
    low_i = np.clip(low.astype(np.int64) + 1, 0, side + 1)
    high_i = np.clip(low.astype(np.int64) + 2, 0, side + 1)
    return low_i, high_i, 1.0 - weight, weight


def scaled(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` (N, side, side) zoomed by ``factor`` about the box's centre (bilinear, zeros outside)."""
    side = x.shape[1]
    low, high, w_low, w_high = _scale_taps(side, float(factor))
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    rows = padded[:, low, :] * w_low[None, :, None] + padded[:, high, :] * w_high[None, :, None]
    return (rows[:, :, low] * w_low[None, None, :] + rows[:, :, high] * w_high[None, None, :]).astype(x.dtype)


def views(x: np.ndarray) -> np.ndarray:
    """The :data:`VIEWS` views of each digit, view-major: (VIEWS * N, side, side)."""
    x = np.asarray(x, np.float32)
    found = [x, *(shifted(x, r, c) for r, c in SHIFTS), *(scaled(x, f) for f in SCALES)]
    return np.clip(np.concatenate(found), 0.0, 1.0)


def averaged(x: np.ndarray, side: int, probabilities: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Mean of ``probabilities`` over the views of ``x`` (N, *shape) whose digits are ``side`` square.

    Args:
        x: the model's input, each row one ``side`` x ``side`` digit in any per-sample shape.
        probabilities: inputs of ``x``'s shape -> (rows, 10) checked, calibrated probabilities.
    """
    count = len(x)
    seen = views(x.reshape(count, side, side)).reshape(VIEWS * count, *x.shape[1:])
    return probabilities(seen).reshape(VIEWS, count, -1).mean(axis=0, dtype=np.float64).astype(np.float32)
