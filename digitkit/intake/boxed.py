"""Box-stretched scans: a digit whose bounding box was stretched to fill a square.

Several public digit sets were scanned by stretching each digit's bounding box to fill a
16x16 or 32x32 box and thresholding it to black and white (the 8x8 UCI digits are such a
32x32 scan counted in 4x4 blocks). The aspect ratio is lost (a "1" becomes a wide slab)
and the edges are hard steps, where MNIST's are anti-aliased.

:func:`restore` undoes both, the way MNIST itself was made from binary NIST scans:

1. the ink is enlarged smoothly (bilinear) to about :data:`FINE_SIDE` pixels and thresholded
   at half, which turns the scan's staircase into the smooth outline it sampled;
2. the width is divided by the stretch :func:`box_stretch_ratio` measures;
3. the MNIST box step then shrinks it by area averaging to 20 pixels, which gives edges
   the grey anti-aliasing MNIST's have.

Measured on 1,000 box-stretched 16x16 and 32x32 scans of MNIST test digits (the `cnn` on 24k
MNIST; sets drawn with seeds 0 / 1): 92.3 -> 96.2 / 95.6 % and 93.4 -> 97.0 / 97.1 %, against
98.0 and 98.3 % for the clean source digits; blurring the fine outline before thresholding (sigma 1 px of the scan) lost 4 points
on 16x16 scans, a threshold of 0.4 or 0.6 instead of 0.5 changed under 1.5 points.
"""

from __future__ import annotations

import numpy as np

from digitkit.intake.strokes import median, run_lengths

# The smooth outline is drawn at about this many pixels on the longer side (8x the MNIST box).
FINE_SIDE = 160
# A pen stroke's width as a share of the digit's height (height is the longer side of most
# digits): fitted on box-stretched scans of MNIST test digits (0.14-0.16 measured alike).
STROKE_SHARE = 0.15
MIN_SAMPLES = 6
# MNIST digits' height over width lies in about [0.8, 5] ("1" up to 5).
MIN_RATIO, MAX_RATIO = 0.7, 6.0


def box_stretch_ratio(mask: np.ndarray) -> float:
    """How much wider than tall a box-stretched digit's strokes are: the width to divide by.

    Two estimates are combined (geometric mean): the width of vertical strokes (per ink
    pixel, its horizontal run when shorter than or equal to its vertical one) over the
    thickness of horizontal strokes, and that width over :data:`STROKE_SHARE` of the height.
    The second alone reads a "1", which has no horizontal stroke and may fill the box solid.

    Args:
        mask: the ink (True) of a digit that fills its box.

    Returns:
        The factor in [:data:`MIN_RATIO`, :data:`MAX_RATIO`]; 1 when nothing can be measured.
    """
    height, width = mask.shape
    across = run_lengths(mask, 1)
    down = run_lengths(mask, 0)
    vertical = across[mask & (across <= down)]  # ties: a solid slab is one vertical stroke
    horizontal = down[mask & (down < across)]
    if vertical.size < MIN_SAMPLES:
        return 1.0
    stroke = median(vertical) / width
    ratio = stroke / STROKE_SHARE
    if horizontal.size >= MIN_SAMPLES:
        ratio = float(np.sqrt(ratio * stroke / (median(horizontal) / height)))
    return float(np.clip(ratio, MIN_RATIO, MAX_RATIO))


def restore(ink: np.ndarray, outline: float = 0.5) -> np.ndarray:
    """A box-stretched digit's ink (cropped to its box, bright on black) with a smooth outline
    and its width restored, at about :data:`FINE_SIDE` pixels: binary float32, for the MNIST
    box step to shrink by area averaging.

    Args:
        ink: the digit's ink in [0, 1], cropped to its box.
        outline: the ink level the outline is drawn at (lower for tiny digits whose pixels
            count the ink in a block: a thin stroke covers under half a block).
    """
    from PIL import Image

    height, width = ink.shape
    ratio = box_stretch_ratio(ink >= outline)
    up = max(1, round(FINE_SIDE / max(height, width)))
    fine_h, fine_w = height * up, width * up
    # Enlarge the outline and divide the width in one resampling, then threshold.
    target_w = max(1, round(fine_w / ratio))
    fine = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32), mode="F").resize(
        (target_w, fine_h), Image.Resampling.BILINEAR)
    return (np.asarray(fine, dtype=np.float32) >= outline).astype(np.float32)
