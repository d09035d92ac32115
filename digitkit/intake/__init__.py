"""One bounded intake for every image a user sends: read, decode, make an MNIST digit.

Every place an image enters digitkit (predict, preview of files, image-folder datasets, the
web server) goes through :func:`read_digit`, or its three steps:

- :func:`read_bytes`: a regular file, ``-`` for stdin, or bytes, never more than
  :data:`MAX_FILE_BYTES` (FIFOs, devices and folders are refused without reading);
- :func:`decode`: a Pillow image, size-checked from the header and shrunk while decoding
  (:data:`MAX_PIXELS`, :data:`DECODE_SIDE`);
- :func:`to_digit`: grey levels (transparency-aware), then :func:`preprocess_image`, one
  pure function, to a float32 28x28 digit in [0, 1], white ink on black, MNIST-style.

Every failure is an :class:`~digitkit.errors.InputError` with one line saying why.
"""

from __future__ import annotations

import numpy as np

from digitkit.errors import InputError
from digitkit.intake.decoding import DECODE_SIDE, MAX_PIXELS, MAX_SIDE, MIN_SIDE, check_size, decode
from digitkit.intake.grey import grey_or_bytes, picture_or_bytes, to_grey
from digitkit.intake.preprocess import BOX, SIZE, WORK_SIDE, preprocess_image, resize_only
from digitkit.intake.reading import MAX_FILE_BYTES, STDIN, ImageSource, display_name, read_bytes

__all__ = [
    "BOX", "DECODE_SIDE", "MAX_FILE_BYTES", "MAX_PIXELS", "MAX_SIDE", "MIN_SIDE", "SIZE", "STDIN", "WORK_SIDE",
    "ImageSource", "check_size", "decode", "digit_from", "display_name", "picture_or_bytes", "preprocess_image",
    "read_bytes",
    "read_digit", "read_grey", "read_picture", "resize_only", "to_digit", "to_grey",
]


def to_digit(image, *, preprocess: bool = True) -> np.ndarray:
    """An MNIST-style digit from a decoded image or a grey array.

    Args:
        image: a ``PIL.Image.Image`` (any mode; a colour photo is read in colour) or a 2-D
            grey array in [0, 1] (or uint8).
        preprocess: ``False`` only resizes to 28x28 (for inputs already in MNIST form).

    Returns:
        float32 (28, 28) in [0, 1], white ink on black.

    Raises:
        InputError: no ink found.
    """
    grey = image if isinstance(image, np.ndarray) else picture_or_bytes(image)
    if preprocess:
        return preprocess_image(grey)
    if grey.ndim == 3 and grey.dtype == np.uint8 and grey.shape[2] == 3:
        from digitkit.intake.paper import luma

        grey = luma(grey)  # a colour photo kept for its ink: its grey as it decodes
    return resize_only(grey)


def read_grey(source: ImageSource, max_side: int | None = DECODE_SIDE) -> np.ndarray:
    """Read and decode one image; its grey levels (float32 in [0, 1], 0 = black)."""
    return to_grey(decode(read_bytes(source), display_name(source), max_side))


def read_digit(source: ImageSource, *, preprocess: bool = True) -> np.ndarray:
    """Read, decode and preprocess one image: a path, ``"-"`` for stdin, or the file's bytes.

    Returns:
        float32 (28, 28) in [0, 1], white ink on black, MNIST-style.

    Raises:
        InputError: unreadable, not a regular file, too large, not an image, or no ink;
            the message starts with the input's name.
    """
    name, grey = read_picture(source, colour=True)
    return digit_from(name, grey, preprocess=preprocess)


def read_picture(source: ImageSource, *, colour: bool = False) -> tuple[str, np.ndarray]:
    """The first half of :func:`read_digit`: read and decode (shrunk for digit work).

    Args:
        colour: keep a colour photo in colour (uint8 RGB, see
            :func:`~digitkit.intake.grey.picture_or_bytes`), for :func:`digit_from`.

    Returns:
        The input's name and its picture: grey (uint8, or float32 in [0, 1]), or uint8 RGB.
    """
    name = display_name(source)
    # The bytes are dropped as soon as they are decoded: only one copy of a big image lives.
    image = decode(read_bytes(source), name)
    try:
        return name, picture_or_bytes(image) if colour else grey_or_bytes(image)
    except InputError as exc:
        raise InputError(f"{name}: {exc.message}", hint=exc.hint) from None


def digit_from(name: str, grey: np.ndarray, *, preprocess: bool = True) -> np.ndarray:
    """The second half of :func:`read_digit`: the digit in a picture read by :func:`read_picture`."""
    try:
        return to_digit(grey, preprocess=preprocess)
    except InputError as exc:
        raise InputError(f"{name}: {exc.message}", hint=exc.hint) from None
