"""Tiny digits scaled up: finding the few pixels they were drawn with.

People enlarge an 8x8 digit (the UCI optical-digits size) to look at it, with
nearest-neighbour sampling (blocks of equal pixels) or bilinear sampling (smooth ramps
between the block centres). Either way the picture holds only the tiny grid's pixels; its
staircase edges or ramps are not the writer's strokes. :func:`native_grid` finds the grid
and returns its pixels, so preprocessing can treat the digit at its real resolution.

The check costs one row of arithmetic per candidate grid (most pictures fail it at once)
and only sizes that are an integer multiple (3x or more) of a grid of 8-16 pixels on its
longer side are tried (none for a 28x28 picture).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Grids of at most this many pixels a side count as tiny digits; a larger picture made of
# blocks is a real image that happens to be blocky.
MAX_NATIVE = 16
MIN_NATIVE = 3
# The grid's longer side is at least this (8x8 UCI digits, 16x16 USPS and Semeion digits):
# a 4x4 or 7x7 "digit" holds no digit, and a 28x28 picture (4 x 7) is not even tried.
MIN_LONGER = 8
MIN_FACTOR = 3
# Largest difference (0..1 grey) between the picture and its grid enlarged again: Pillow's
# bilinear enlargement rounds to 8 bits and has its own fixed-point error.
TOLERANCE = 0.03


def _centres(native: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """The two picture pixels nearest to each grid pixel's centre (the same one when odd)."""
    starts = np.arange(native) * factor
    return starts + (factor - 1) // 2, starts + factor // 2


@lru_cache(maxsize=256)
def _bilinear_weights(native: int, factor: int) -> np.ndarray:
    """(native * factor, native) matrix of bilinear enlargement (pixel centres aligned, edges
    clamped), as Pillow's BILINEAR enlarges."""
    position = np.clip((np.arange(native * factor) + 0.5) / factor - 0.5, 0, native - 1)
    low = np.minimum(np.floor(position).astype(np.intp), native - 1)
    high = np.minimum(low + 1, native - 1)
    frac = position - low
    weights = np.zeros((native * factor, native))
    rows = np.arange(native * factor)
    np.add.at(weights, (rows, low), 1 - frac)
    np.add.at(weights, (rows, high), frac)
    weights.flags.writeable = False  # cached: shared by every call
    return weights


@lru_cache(maxsize=256)
def _bilinear_inverse(native: int, factor: int) -> np.ndarray:
    """The least-squares inverse of :func:`_bilinear_weights` (cached: a pseudo-inverse costs
    more than the rest of the search)."""
    inverse = np.linalg.pinv(_bilinear_weights(native, factor))
    inverse.flags.writeable = False
    return inverse


def _fit(picture: np.ndarray, native: tuple[int, ...], factor: int) -> np.ndarray | None:
    """The grid ``picture`` (1-D or 2-D) was enlarged from, nearest or bilinear, or ``None``.

    Nearest: the pixels at the block centres. Bilinear: the least-squares grid (the centre
    pixels of an even factor straddle a ramp's knot and miss the grid value). Plain matrix
    products, 1-D or 2-D: this runs for every picture whose size is a candidate.
    """
    centres = [_centres(n, factor) for n in native]
    if picture.ndim == 1:
        (c0, c1), = centres
        grid = (picture[c0] + picture[c1]) * 0.5
        nearest = np.repeat(grid, factor)
    else:
        (r0, r1), (c0, c1) = centres
        grid = (picture[r0][:, c0] + picture[r0][:, c1] + picture[r1][:, c0] + picture[r1][:, c1]) * 0.25
        nearest = np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)
    if float(np.abs(nearest - picture).max()) <= TOLERANCE:
        return grid
    if picture.ndim == 1:
        grid = _bilinear_inverse(native[0], factor) @ picture
        smooth = _bilinear_weights(native[0], factor) @ grid
    else:
        grid = _bilinear_inverse(native[0], factor) @ picture @ _bilinear_inverse(native[1], factor).T
        smooth = _bilinear_weights(native[0], factor) @ grid @ _bilinear_weights(native[1], factor).T
    if float(np.abs(smooth - picture).max()) <= TOLERANCE:
        return np.clip(grid, 0.0, 1.0)
    return None


def _grids(height: int, width: int):
    """The candidate grids (rows, cols, factor) of a picture's size."""
    for rows in range(MIN_NATIVE, MAX_NATIVE + 1):
        factor, rest = divmod(height, rows)
        if rest or factor < MIN_FACTOR or width % factor or not MIN_NATIVE <= width // factor <= MAX_NATIVE:
            continue
        cols = width // factor
        if max(rows, cols) >= MIN_LONGER:
            yield rows, cols, factor


def may_be_upscaled(shape: tuple[int, int]) -> bool:
    """Whether a picture of this size could be a tiny grid scaled up (from its size alone)."""
    return next(_grids(*shape), None) is not None


def native_grid(x: np.ndarray) -> np.ndarray | None:
    """The tiny grid a picture was enlarged from (nearest or bilinear), or ``None``.

    Args:
        x: grey picture, float in [0, 1].

    Returns:
        float32 array of the grid's pixels (at most :data:`MAX_NATIVE` a side), or ``None``
        when the picture is not an integer enlargement of such a grid.
    """
    for rows, cols, factor in _grids(*x.shape):
        # Cheap rejection first: one row through the middle of a grid row must match alone.
        if _fit(x[(rows // 2) * factor + factor // 2], (cols,), factor) is None:
            continue
        grid = _fit(x, (rows, cols), factor)
        if grid is not None:
            return grid.astype(np.float32)
    return None
