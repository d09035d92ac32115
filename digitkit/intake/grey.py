"""Grey levels in [0, 1] from a decoded image of any mode."""

from __future__ import annotations

import numpy as np

from digitkit.intake.alpha import grey_from_alpha, has_alpha


def to_grey(image) -> np.ndarray:
    """Grey levels in [0, 1] (float32, 0 = black), whatever the image mode.

    16- and 32-bit grey is scaled by its bit depth rather than clipped; colour uses ITU-R 601
    luma; transparency goes through :mod:`digitkit.intake.alpha` (alpha as ink when the
    colour is flat, else composited onto white paper).
    """
    mode = image.mode
    if mode.startswith("I;16"):
        return (np.asarray(image, dtype=np.float32) / 65535.0).astype(np.float32)
    if mode == "I":
        values = np.asarray(image, dtype=np.float64)
        # 16-bit PNGs decode to mode I; a genuine 32-bit image is rare enough to scale by its peak.
        top = 65535.0 if values.max(initial=0) <= 65535 else float(values.max())
        return np.clip(values / top, 0.0, 1.0).astype(np.float32)
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        peak = values.max(initial=0)
        top = 1.0 if peak <= 1.0 else (255.0 if peak <= 255 else float(peak))
        return np.clip(values / top, 0.0, 1.0).astype(np.float32)
    if mode == "1":
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    if has_alpha(image):
        return grey_from_alpha(image)
    return np.asarray(_luma(image), dtype=np.float32) / 255.0


def grey_or_bytes(image) -> np.ndarray:
    """What :func:`to_grey` gives, except 8-bit grey and colour pictures stay uint8 (0..255).

    :func:`~digitkit.intake.preprocess.preprocess_image` scales uint8 itself, to the same
    float32 values, and skips the range checks a float array needs.
    """
    if image.mode in ("L", "RGB", "CMYK", "YCbCr", "P") and not has_alpha(image):
        return np.asarray(_luma(image))
    return to_grey(image)


def picture_or_bytes(image) -> np.ndarray:
    """What :func:`grey_or_bytes` gives, except a colour photo stays in colour: uint8 RGB
    (H x W x 3) when the picture is colour without transparency and its longer side is above
    :data:`~digitkit.intake.paper.PHOTO_SIDE`, so that its ink can be told from the paper by
    colour too (:mod:`digitkit.intake.paper`). Small pictures never pay for it."""
    from digitkit.intake.paper import PHOTO_SIDE

    if image.mode in ("RGB", "CMYK", "YCbCr") and max(image.size) > PHOTO_SIDE and not has_alpha(image):
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    return grey_or_bytes(image)


def _luma(image):
    """8-bit grey (ITU-R 601 luma, in C) of an image without transparency."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, P without transparency
    return image if image.mode == "L" else image.convert("L")
