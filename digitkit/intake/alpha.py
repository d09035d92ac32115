"""Reading a digit drawn on a transparent layer.

Drawing apps and HTML canvases export the strokes as colour with an alpha channel and leave
the rest fully transparent. Compositing onto white (what a viewer shows) works for a dark
pen but makes a white or pale pen vanish. When every visible pixel has about the same colour
and only the alpha varies, the alpha alone holds the digit, whatever the pen colour: it is
used as the ink. Otherwise (a photo with transparent margins, ink on a half-transparent
paper layer) the picture is composited onto white paper as a viewer shows it.
"""

from __future__ import annotations

import numpy as np

# Visible pixels whose luma spread (5th to 95th percentile, 0..255) is below this share one
# pen colour; JPEG-free exports spread by a few levels at most, a photo by far more.
FLAT_SPREAD = 24
# Alpha must vary this much (0..255) for the alpha to be a drawing rather than a uniform tint.
ALPHA_RANGE = 96


def has_alpha(image) -> bool:
    """Whether the image carries transparency (an alpha channel or a transparent colour)."""
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def alpha_is_ink(luma: np.ndarray, alpha: np.ndarray) -> bool:
    """Whether the colour is flat where the picture is visible while the alpha varies.

    Args:
        luma: uint8 luma of the colour channels (alpha ignored).
        alpha: uint8 alpha, same shape.
    """
    low, high = byte_percentiles(alpha, (1, 99)) if alpha.size > 100 else (alpha.min(), alpha.max())
    if high - low < ALPHA_RANGE:
        return False
    visible = luma[alpha >= max(128, int(high) // 2)]
    if visible.size == 0:
        return False
    if visible.size > 20:
        five, ninety_five = byte_percentiles(visible, (5, 95))
        spread = ninety_five - five
    else:
        spread = np.ptp(visible)
    return float(spread) < FLAT_SPREAD


def byte_percentiles(values: np.ndarray, percents) -> list[float]:
    """``np.percentile(values, percents)`` of uint8 values, by counting (no sort of a big canvas).

    The same linear interpolation between the two nearest ranks as numpy's default method.
    """
    counts = np.cumsum(np.bincount(values.ravel(), minlength=256))
    last = values.size - 1
    out = []
    for percent in percents:
        index = np.float64(percent) / 100 * last
        below = int(np.floor(index))
        above = min(below + 1, last)
        a, b = np.searchsorted(counts, [below, above], side="right").astype(np.float64)
        t = index - below
        out.append(float(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t))
    return out


def grey_from_alpha(image) -> np.ndarray:
    """Grey levels (0 = ink) of an image with transparency: alpha as ink, or composited on white."""
    rgba = image.convert("LA") if image.mode in ("LA", "La") else image.convert("RGBA")
    alpha = np.asarray(rgba.getchannel("A"))
    luma = np.asarray(rgba.convert("L"))  # ITU-R 601 luma of the colour, in C
    if alpha_is_ink(luma, alpha):
        return 1.0 - alpha.astype(np.float32) / 255.0
    a = alpha.astype(np.float32) / 255.0
    return np.clip(luma.astype(np.float32) / 255.0 * a + (1.0 - a), 0.0, 1.0)
