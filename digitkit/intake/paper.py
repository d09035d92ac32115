"""Finding the paper, then the ink, in a large photo: shadows, table edges, a small thin digit.

A phone photo of a digit on a sheet of paper holds much more than the digit: a cast shadow
across the sheet (the phone's or the hand's), the table or the sheet's edge along a border,
a light gradient, and a digit that may be 3 % of the frame's height, drawn with a pen 3
pixels wide. Shrinking such a photo to the working size first averages the thin strokes
away, and a shadow's edge is then the strongest dark line left.

:func:`locate` looks for the digit before anything is averaged:

1. **An ink-keeping shrink.** The picture is cut into k x k blocks (about :data:`LOCATE_SIDE`
   blocks on the longer side); each block's darkest pixel keeps a thin stroke whole, and
   its lightest pixel is the paper beside it.
2. **The paper's light** is a closing of the lightest pixels (a window wider than any pen
   stroke fills the strokes in with the paper around them), eroded by one block so that a
   hard shadow edge falls on the shadowed side. A shadow, a gradient or a vignette is part
   of this background; so is a dark band wider than the window (the table, the sheet's
   edge).
3. **The ink** is what is darker than the paper's light by a share (division, not
   subtraction: a stroke in a shadow is as dark, relatively, as one in the light), by an
   absolute amount, and by twice the grain (a block's typical range on plain paper: the
   noise of a dark table, lifted by the division, is not ink).
4. **Not ink**: 8-connected regions touching the picture's border (a table or paper edge
   narrower than the window, fingers, the shadow's corner) or running along most of a
   side; solid patches rather than strokes (a shadow's wedge); regions whose darkest ink is
   a shade of the darkest region's (a shadow's sliver); specks; regions far from the
   largest. Each test is dropped when nothing would be left. Strokes about as wide as the
   window (a large digit, a thick pen) are found again with a window three times as wide,
   keeping what overlaps the first find.
5. **The crop** around what is left is taken from the full-resolution picture, divided by
   the paper's light (upsampled), with everything outside the kept ink (grown by two
   blocks) set to paper. Preprocessing then treats it as a clean scan.

**Colour.** A colour picture (uint8 RGB) is read in its luma (the grey a colour file
decodes to) as above, and in colour: each block's most off-colour pixel (Cb, Cr) against
the paper's colour (an opening-closing of the blocks' mid chroma with the same window, which
keeps a shadow's edge where it is and removes strokes), less twice the chroma grain. Where
that colour difference matters (the strongest blocks' difference is at least
:data:`MIN_INK` of the paper's light: a coloured pen, not the tint of a shadow or JPEG's
colour noise), the ink's strength is the distance from the paper in colour and brightness
together (the two in quadrature, relative to the paper's light), in the mask and in the
crop: a light-blue pen on yellow paper, as bright as the paper, is ink. Otherwise the
picture is read exactly as a grey one.

The polarity (dark ink on light paper, or light on dark) is the one whose thin features
hold more contrast (black against white top-hat, at two windows): a shadow or a band
covering half of the border does not fool it, as it would the border's median. A thick
pen's loops are light features as strong as its strokes; such ties go to light paper when
a tenth of the picture is light.

All of it is whole-array numpy on ~320 x 240 blocks (uint8 until then), plus the crop:
about 20-40 ms of CPU for a 2016 x 1512 photo (about 30 ms more in colour: the luma and
chroma conversions in Pillow and the chroma blocks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitkit.intake import morphology
from digitkit.intake.strokes import run_lengths

# Pictures whose longer side is above this go through :func:`locate` (small files never do).
# A phone photo decodes to 1,024-2,048 px; below this, pictures are mostly a digit filling
# much of the frame, which the working-size path reads well (at 640, a blurry thick-pen
# digit filling a 680 px photo was found in pieces: its strokes were wider than the window).
PHOTO_SIDE = 900
# The ink is located on blocks of k x k pixels, about this many on the longer side.
LOCATE_SIDE = 320
# The paper's light is a closing with a window of this share of the longer side (blocks):
# wider than a thick pen stroke of a digit 15 % of the frame's height.
WINDOW_SHARE = 1 / 24
# Ink is this much darker than the paper's light (as a share of it), at least.
MIN_INK = 0.2
# ... and at least this share of the darkest ink found (the strokes' cores).
INK_SHARE = 0.6
# ... and darker than its paper by this much (0..1 grey).
MIN_CONTRAST = 0.08
# ... and by this many times the grain (a block's typical range on plain paper).
NOISE_TIMES = 2.0
# Light thin features must beat dark ones by this factor for the paper to be dark, unless
# the picture is dark all over.
CLEARLY = 1.5
# A region is drawn with strokes when its mean stroke thickness (per pixel, the shorter of
# its horizontal and vertical run) is at most this share of its longer side; a shadow's
# corner or a band is a solid patch.
STROKE_SHARE = 0.3
# A digit spans at least this many blocks (a 3 %-tall digit in a 12 MP photo spans ~9).
MIN_EXTENT = 3
# A region whose darkest ink is below this share of the darkest region's is a shadow's shade.
PEAK_SHARE = 0.75
# A region spanning this share of the picture's height or width is a band (the table, the
# paper's edge), whatever else it looks like.
BAND_SHARE = 0.9
# When the digit's strokes are at least this share of the window thick, it is found again
# with a window three times as wide.
WIDER_WHEN = 2.5
# Regions with less than this share of the largest region's pixels are specks.
SPECK_SHARE = 0.08
# Regions further than this many times the largest region's size from it are not the digit.
NEAR = 0.6
# Colour counts when the ~30 most off-colour blocks differ from their paper by at least this
# share of its light (as :data:`MIN_INK` for brightness): a bluish shadow's edge, a brown
# table or JPEG's chroma noise stays below it, a coloured pen does not.
MIN_COLOUR = MIN_INK


@dataclass
class Found:
    """What :func:`locate` found, for preprocessing and for ``predict --show``.

    Attributes:
        crop: the full-resolution crop around the digit, divided by the paper's light,
            float32 in [0, 1], dark ink on light (1.0) paper.
        box: (top, bottom, left, right) of the crop in the picture.
        paper: the paper's light at the block scale (dark ink) or its darkness (light ink).
        ink: the ink mask at the block scale, before regions were dropped.
        kept: the regions kept as the digit, at the block scale.
        light_paper: whether the paper was light (dark ink).
        block: the block size k.
        colour: whether the ink was told from the paper by colour too.
    """

    crop: np.ndarray
    box: tuple[int, int, int, int]
    paper: np.ndarray
    ink: np.ndarray
    kept: np.ndarray
    light_paper: bool
    block: int
    colour: bool = False


def locate(full: np.ndarray) -> Found | None:
    """Find the digit in a large picture; ``None`` when no ink.

    Args:
        full: 2-D grey, uint8 (0..255) or float32 in [0, 1]; or uint8 RGB (H x W x 3), read
            in colour. uint8 is only converted in blocks and in the crop (a 3 MP float copy
            costs more than finding the digit).
    """
    colour = full if full.ndim == 3 else None
    if colour is not None:
        full = luma(colour)
    height, width = full.shape
    k = max(2, -(-max(height, width) // LOCATE_SIDE))
    if min(height, width) < 8 * k:
        return None
    unit = np.float32(1 / 255 if full.dtype == np.uint8 else 1)
    dark = morphology.block_min(full, k).astype(np.float32) * unit
    light = morphology.block_max(full, k).astype(np.float32) * unit
    window = max(5, int(max(dark.shape) * WINDOW_SHARE) | 1)
    # Light paper unless both a window about a stroke wide and one three times as wide say
    # the thin features are light: a thick pen's strokes are wider than the first (the
    # paper between them stands out), a shadow's corner may be narrower than the second.
    wide = min(3 * window, max(dark.shape)) | 1
    # (On blocks twice as large: the polarity needs no detail, and this is most of the filtering.)
    dark2, light2 = morphology.block_min(dark, 2), morphology.block_max(light, 2)
    light_paper = _light_paper(dark2, light2, (window // 2 | 1, wide // 2 | 1))
    if not light_paper:
        dark, light = 1.0 - light, 1.0 - dark
    # The grain: a block's range on plain paper (its median over all blocks); ink must stand
    # out from its paper by more than twice that (the darkest of k x k noisy pixels is
    # several sigmas below the paper).
    contrast = max(MIN_CONTRAST, NOISE_TIMES * _quantile(light - dark, 0.5))
    tint = _Tint(colour, k, dark.shape) if colour is not None else None
    found = _find(dark, light, window, contrast, tint=tint)
    if found is not None and found[3] * WIDER_WHEN >= window:
        # Strokes about as wide as the window were only partly filled in: a large digit
        # with a thick pen. Again with a window three times as wide.
        # Only the regions that hold the digit found first: a wider window also fills in
        # wider shadows.
        found = _find(dark, light, min(3 * window, max(dark.shape)) | 1, contrast, seed=found[2], tint=tint) or found
    if found is None:
        return None
    paper, mask, kept, _, hue = found
    return _crop(full, paper, kept, k, light_paper, mask, None if hue is None else (tint, hue))


def luma(rgb: np.ndarray) -> np.ndarray:
    """8-bit grey of a uint8 RGB array: ITU-R 601 luma, as Pillow's ``convert("L")`` (in C),
    so a colour photo's grey is exactly what its file decodes to in grey."""
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb), "RGB").convert("L"))


def _find(dark: np.ndarray, light: np.ndarray, window: int, contrast: float, seed: np.ndarray | None = None,
          tint: _Tint | None = None):
    """The paper's light, the ink mask, the digit's regions, their mean stroke thickness
    (blocks) and the paper's colour where colour counted (else ``None``), with a closing of
    ``window`` blocks; ``None`` when no ink."""
    paper = morphology.erode(morphology.closing(light, window), 3)
    paper = np.maximum(paper, np.float32(1 / 255))
    ink = 1.0 - dark / paper
    step = paper - dark
    hue = None
    if tint is not None:
        ink, step, hue = tint.combine(ink, step, paper, window)
    if float(ink.max()) < MIN_INK:
        return None
    # Division lifts the noise of a dark table as much as ink: ink must also differ from
    # its paper by an absolute amount.
    mask = (ink >= max(MIN_INK, INK_SHARE * _core(ink))) & (step >= contrast)
    kept, thickness = _digit_regions(mask, ink, seed)
    if not kept.any():
        return None
    return paper, mask, kept, thickness, hue


def block_mean(full: np.ndarray, k: int) -> np.ndarray:
    """The mean of each ``k`` x ``k`` block, float32 (uint8 scaled to [0, 1])."""
    height, width = full.shape[0] // k, full.shape[1] // k
    rows = full[:height * k, 0:width * k:k].astype(np.float32)
    for j in range(1, k):
        rows += full[:height * k, j:width * k:k]
    out = rows[0::k].copy()
    for i in range(1, k):
        out += rows[i::k]
    return out * np.float32((1 / 255 if full.dtype == np.uint8 else 1) / (k * k))


def _light_paper(dark: np.ndarray, light: np.ndarray, windows: tuple[int, int]) -> bool:
    """Whether the thin features are dark (black top-hat of the darkest pixels) rather than
    light (white top-hat of the lightest), at either window: the few strongest decide, and
    grain, noise and edges are alike both ways. A thick pen's loops are light thin features
    as strong as its strokes: when the light ones do not win clearly (by :data:`CLEARLY`),
    the paper is light if a tenth of the picture is (some paper is always in the light)."""
    count = max(10, dark.size // 4000)
    ratios = []
    for window in windows:
        black = _top(morphology.closing(dark, window) - dark, count)
        white = _top(light - morphology.opening(light, window), count)
        if black >= white:
            return True
        ratios.append(white / max(black, 1e-6))
    if min(ratios) >= CLEARLY:
        return False
    return _quantile(light, 0.9) > 0.5


def _top(x: np.ndarray, count: int) -> float:
    flat = x.ravel()
    count = min(count, flat.size)
    return float(np.partition(flat, flat.size - count)[flat.size - count:].sum())


def _quantile(x: np.ndarray, q: float) -> float:
    flat = x.ravel()
    k = int(q * (flat.size - 1))
    return float(np.partition(flat, k)[k])


def _core(ink: np.ndarray) -> float:
    """The level of the darkest ink: the mean of the darkest ~30 blocks (one block alone
    may be a dead pixel or a JPEG artefact)."""
    flat = ink.ravel()
    count = min(flat.size, 30)
    return float(np.partition(flat, flat.size - count)[flat.size - count:].mean())


def _digit_regions(mask: np.ndarray, ink: np.ndarray, seed: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """The regions of ``mask`` that make the digit: drawn with strokes, not touching the
    border, not specks, near the largest such region (each test dropped when nothing
    would be left), or the regions that overlap ``seed``; and their mean stroke thickness."""
    labels, count = morphology.label(mask)
    if count == 0:
        return mask, 0.0
    thick = np.minimum(run_lengths(mask, 0), run_lengths(mask, 1))
    if seed is not None:
        kept = (np.bincount(labels[seed], minlength=count + 1) > 0)[labels] & mask
        return kept, float(thick[kept].mean()) if kept.any() else 0.0
    sizes = np.bincount(labels.ravel(), minlength=count + 1).astype(np.float64)
    sizes[0] = 0
    thickness = np.bincount(labels.ravel(), weights=thick.ravel(), minlength=count + 1) / np.maximum(sizes, 1)
    tall, wide = _spans(labels, count)
    extent = np.maximum(tall, wide)
    big = extent >= MIN_EXTENT
    stroked = (thickness <= STROKE_SHARE * extent) & big
    edge = np.zeros(count + 1, bool)
    edge[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    # A region along most of a side is the table or the paper's edge, never a digit.
    stroked &= (tall < BAND_SHARE * mask.shape[0]) & (wide < BAND_SHARE * mask.shape[1])
    # A pen's ink is about as dark as the darkest ink found; a shadow's sliver is a shade.
    peak = np.zeros(count + 1, np.float32)
    np.maximum.at(peak, labels[mask], ink[mask])
    dark = peak >= PEAK_SHARE * peak[big & ~edge].max(initial=0.0)
    for test in (stroked & ~edge & dark, big & ~edge & dark, stroked & dark, stroked, None):
        if test is None:
            return np.zeros(mask.shape, bool), 0.0
        if (sizes * test).max() > 0:
            break
    largest = int(np.argmax(sizes * test))
    # The digit's other pieces (a blotchy loop beside a stroke) need only be dark: a faint
    # piece beside it is more often a shadow's sliver than a faint stroke (accepting
    # faint stroked pieces too kept a 5's faint bar but lost 4 of 2,000 phone photos).
    sizes = sizes * (test | (dark & big & ~edge))
    keep = sizes >= SPECK_SHARE * sizes[largest]
    keep[0] = False
    rows, cols = np.nonzero(labels == largest)
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    reach = NEAR * max(r1 - r0, c1 - c0) + 2
    near = np.zeros(mask.shape, bool)
    near[max(0, int(r0 - reach)):int(r1 + reach), max(0, int(c0 - reach)):int(c1 + reach)] = True
    keep &= np.bincount(labels[near].ravel(), minlength=count + 1) > 0
    kept = keep[labels]
    return kept, float(thick[kept].mean()) if kept.any() else 0.0


def _spans(labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The height and width of each region's bounding box (index 0: the background)."""
    rows, cols = np.nonzero(labels)
    which = labels[rows, cols]
    spans = []
    for axis in (rows, cols):
        low = np.full(count + 1, np.iinfo(np.intp).max)
        high = np.full(count + 1, -1)
        np.minimum.at(low, which, axis)
        np.maximum.at(high, which, axis)
        spans.append(np.maximum(high - low + 1, 0))
    return spans[0], spans[1]


def _crop(full, paper, kept, k, light_paper, mask, tint: tuple[_Tint, list[np.ndarray]] | None = None) -> Found:
    rows, cols = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    margin = max(2, round(0.15 * max(r1 - r0, c1 - c0)))
    r0, c0 = max(0, r0 - margin), max(0, c0 - margin)
    r1, c1 = min(kept.shape[0], r1 + margin), min(kept.shape[1], c1 + margin)
    top, bottom, left, right = r0 * k, r1 * k, c0 * k, c1 * k
    crop = full[top:bottom, left:right]
    crop = crop.astype(np.float32) * np.float32(1 / 255) if crop.dtype == np.uint8 else crop
    if not light_paper:
        crop = 1.0 - crop
    size = (right - left, bottom - top)
    light = _upsample(paper[r0:r1, c0:c1], size)
    if tint is None:
        flat = np.minimum(crop / light, np.float32(1.0))
    else:
        # The distance from the paper in brightness and colour, as in the mask.
        off = tint[0].off_pixels(tint[1], (top, bottom, left, right), (r0, r1, c0, c1), size)
        flat = 1.0 - np.minimum(np.hypot(np.maximum(light - crop, 0), off) / light, np.float32(1.0))
    # Only the kept ink (grown by two blocks, for the strokes' soft edges) stays: a shadow's
    # edge or a band beside the digit is paper.
    near = kept[r0:r1, c0:c1]
    for _ in range(2):
        near = morphology.grow(near)
    near = np.repeat(np.repeat(near, k, axis=0), k, axis=1)
    flat = np.where(near, flat, np.float32(1.0))
    return Found(flat.astype(np.float32, copy=False), (top, bottom, left, right), paper, mask, kept, light_paper, k,
                 tint is not None)


def _upsample(blocks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Block values at the picture's resolution (``size``: width, height), bilinear."""
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(blocks, dtype=np.float32), mode="F").resize(
        size, Image.Resampling.BILINEAR), np.float32)


class _Tint:
    """The colour of a colour picture at the block scale: each block's lowest and highest
    Cb and Cr, the paper's colour, and how far each block's most off-colour pixel is from it.

    Args:
        colour: uint8 RGB, H x W x 3.
        k: the block size.
        shape: the blocks' shape (as the luma's).
    """

    def __init__(self, colour: np.ndarray, k: int, shape: tuple[int, int]) -> None:
        from PIL import Image

        ycc = np.asarray(Image.fromarray(np.ascontiguousarray(colour), "RGB").convert("YCbCr"))
        self.colour = ycc
        self.low = [morphology.block_min(ycc[..., c], k)[:shape[0], :shape[1]].astype(np.float32) / 255 for c in (1, 2)]
        self.high = [morphology.block_max(ycc[..., c], k)[:shape[0], :shape[1]].astype(np.float32) / 255 for c in (1, 2)]
        # The chroma grain: a block's typical range on plain paper, as for brightness.
        self.grain = float(np.hypot(*[_quantile(h - lo, 0.5) for lo, h in zip(self.low, self.high)]))

    def combine(self, ink: np.ndarray, step: np.ndarray, paper: np.ndarray, window: int,
                ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray] | None]:
        """The ink's strength and its step from the paper, with colour added in quadrature,
        and the paper's colour (Cb, Cr blocks), where colour matters (:data:`MIN_COLOUR`);
        unchanged, and ``None``, where it does not."""
        hue = [_smooth((lo + h) * np.float32(0.5), window) for lo, h in zip(self.low, self.high)]
        deviation = [np.maximum(h - p, p - lo) for lo, h, p in zip(self.low, self.high, hue)]
        off = np.maximum(np.hypot(*deviation) - np.float32(NOISE_TIMES * self.grain), np.float32(0.0))
        if _core(off / paper) < MIN_COLOUR:
            return ink, step, None
        return (np.where(off > 0, np.hypot(np.maximum(ink, 0), off / paper), ink),
                np.where(off > 0, np.hypot(np.maximum(step, 0), off), step), hue)

    def off_pixels(self, hue: list[np.ndarray], box: tuple[int, int, int, int], blocks: tuple[int, int, int, int],
                   size: tuple[int, int]) -> np.ndarray:
        """How far each pixel of the crop ``box`` is from the paper's colour ``hue`` (less the grain)."""
        top, bottom, left, right = box
        r0, r1, c0, c1 = blocks
        pixels = self.colour[top:bottom, left:right]
        squares = np.zeros((bottom - top, right - left), np.float32)
        for c, paper in zip((1, 2), hue):
            difference = pixels[..., c].astype(np.float32) * np.float32(1 / 255) - _upsample(paper[r0:r1, c0:c1], size)
            squares += difference * difference
        return np.maximum(np.sqrt(squares) - np.float32(NOISE_TIMES * self.grain), np.float32(0.0))


def _smooth(x: np.ndarray, window: int) -> np.ndarray:
    """Features narrower than ``window`` removed whichever way they stand out (an opening
    removes the raised ones, then a closing the sunken ones), step edges and ramps kept
    where they are (on blocks twice as large, a table's edge moved by a block, and its
    colour against the paper's became ink)."""
    return morphology.closing(morphology.opening(x, window), window)
