"""Kept for callers of the first version: image loading now lives in :mod:`digitkit.intake`.

``load_digit`` is :func:`digitkit.intake.read_digit`; ``open_image`` decodes at full
resolution unless asked to shrink.
"""

from __future__ import annotations

import numpy as np

from digitkit.intake import (  # noqa: F401  (re-exported)
    DECODE_SIDE, MAX_FILE_BYTES, MAX_PIXELS, MAX_SIDE, MIN_SIDE, ImageSource, decode, display_name, read_bytes,
    read_digit, to_grey,
)


def open_image(source: ImageSource, max_side: int | None = None):
    """Read (bounded) and decode an image; full resolution unless ``max_side`` is given."""
    return decode(read_bytes(source), display_name(source), max_side)


def load_grey(source: ImageSource, max_side: int | None = DECODE_SIDE) -> np.ndarray:
    """Read and decode an image; its grey levels (float32 in [0, 1], any size)."""
    return to_grey(open_image(source, max_side))


def load_digit(source: ImageSource, *, preprocess: bool = True) -> np.ndarray:
    """An image file (path, ``"-"`` or bytes) as an MNIST-style 28x28 digit; see :func:`read_digit`."""
    return read_digit(source, preprocess=preprocess)
