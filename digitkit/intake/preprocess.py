"""Turning any grey picture of a digit into an MNIST-style 28x28 digit.

One pure function, :func:`preprocess_image`, used everywhere an image enters digitkit
(predict, preview of files, image-folder datasets, the web server), so training and
prediction see a user's digit the same way. It follows how MNIST itself was made (LeCun et
al.): the digit's bounding box is scaled so its longer side is 20 pixels, keeping the aspect
ratio, and pasted into a 28x28 field with its centre of mass at the centre.

Before that, a photo or scan of dark ink on light paper is brought into MNIST form:

0. a tiny digit scaled up (:mod:`digitkit.intake.upscaled`) is taken back to its grid and
   enlarged smoothly; a large picture (a photo) has its digit found at full resolution
   first (:mod:`digitkit.intake.paper`: the paper's light, then the ink, then a crop), and
   steps 1-5 and 8 run on that crop;
1. work on a copy whose longer side is at most :data:`WORK_SIDE` (area averaging, which
   also averages away sensor noise and paper texture);
2. invert when the border is light (paper), so ink is bright on black;
3. subtract a smooth (quadratic) light field fitted to the paper, then the morphological
   opening with a window wider than a stroke (a white top-hat): shadows and uneven light go;
4. stretch the contrast to the ink's brightness and zero everything below half of an
   Otsu threshold (paper grain, JPEG ringing);
5. drop specks: connected blobs much smaller than the largest one;
6. when the ink is small in a large picture, crop to it and start again from the full
   resolution, so a small digit in a big photo keeps its detail;
7. when the ink fills its frame, undo a box stretch (:mod:`digitkit.intake.boxed` for binary
   scans and tiny digits, :mod:`digitkit.intake.strokes` for grey pictures);
8. crop to the remaining ink, scale to 20 px, centre by mass.

Every step is whole-array numpy (the filters in :mod:`digitkit.intake.morphology`), about a
millisecond of CPU for a small image, without importing SciPy (half a second per process).
:func:`resize_only` is the ``--no-preprocess`` path for inputs already in MNIST form.
"""

from __future__ import annotations

import functools

import numpy as np
from digitkit.errors import InputError
from digitkit.intake import boxed, morphology, paper
from digitkit.intake.strokes import median, stretch_ratio
from digitkit.intake.upscaled import may_be_upscaled, native_grid

SIZE = 28
BOX = 20
WORK_SIDE = 160
# The ink must stand out from the paper by this much (0..1 grey) to count as ink.
MIN_CONTRAST = 0.08
# Blobs smaller than this share of the largest blob are specks, not strokes.
SPECK_RATIO = 0.08
# Grey below this share of the Otsu threshold is paper grain or JPEG ringing, not ink.
FLOOR_SHARE = 0.5
# Below this many pixels on its longer side at the working size, the digit is re-cut from
# the full-resolution picture (step 6).
SMALL_INK = 64
# Ink spanning this share of one side and :data:`FILLS_OTHER` of the other fills its frame: a
# box-stretched scan or a tight crop. (Thresholding a stretched scan often empties its first
# or last columns: 13-15 of 16 columns hold ink in 40 % of box-stretched 16x16 scans.)
FILLS_FRAME = 0.92
FILLS_OTHER = 0.75
# A tiny digit scaled up is re-enlarged from its native pixels by this factor (Lanczos): an
# 8x8 digit becomes the 32x32 scan it was counted from. Measured on 8x8 upscales (seed 0 / 1
# sets): Lanczos 4x 95.0 / 95.5 %, bicubic 4x 94.4 / 94.4 %, bicubic 3x 94.3 / 94.0 %.
SMOOTH_FACTOR = 4
# A tiny digit's pixels are counts of ink in a block: a stroke narrower than the block covers
# under half of it, so its outline is drawn at this level (0.5 for binary scans). Measured on
# 8x8 upscales: 0.25: 91.1 %, 0.35: 94.8 %, 0.5: 91.9 %.
TINY_OUTLINE = 0.35
# Paper whose border varies less than this (10th to 60th percentile) is evenly lit: the light
# field and the top-hat are skipped, which also keeps strokes wider than the top-hat window.
FLAT_PAPER = 0.03
# Shrinking to at most this many pixels a side is done as matrix products (see _resize).
SMALL_OUTPUT = 32
# Shrinking by less than this factor is done by gathers in numpy (see _box_gather); Pillow
# is faster for larger factors (longer spans).
GATHER_TAPS = 3


def _no_ink(detail: str = "the image is blank or has too little contrast") -> InputError:
    return InputError(f"no ink found: {detail}", hint="give a picture of one digit, dark on light or light on dark")


def preprocess_image(grey: np.ndarray) -> np.ndarray:
    """Make an MNIST-style digit from a grey picture of one digit.

    Args:
        grey: 2-D array (or H x W x C, averaged), float in [0, 1] (uint8 is scaled), any
            size, dark ink on light paper or light ink on dark. A large uint8 colour
            picture (H x W x 3, RGB) is read in colour: ink is what differs from the paper
            in colour as well as brightness (:mod:`digitkit.intake.paper`).

    Returns:
        float32 array 28 x 28 in [0, 1], white ink on black, centred like MNIST.

    Raises:
        InputError: the picture is empty or holds no ink (all white, all black, flat).
    """
    return preprocess_found(grey)[0]


def preprocess_found(grey: np.ndarray) -> tuple[np.ndarray, paper.Found | None]:
    """:func:`preprocess_image`, and for a photo what :func:`paper.locate` found in it (the
    paper, the ink, the crop): one pass gives both the digit and the panels that explain it
    (:func:`digitkit.intake.explain.digit_and_panels`).

    Returns:
        The digit, and the :class:`~digitkit.intake.paper.Found` of a photo (``None`` for
        other pictures).
    """
    raw = np.asarray(grey)
    if raw.ndim in (2, 3) and max(raw.shape[:2]) > paper.PHOTO_SIDE and not may_be_upscaled(raw.shape[:2]):
        return _from_photo(_photo_input(raw))
    full = _as_unit_grey(grey)
    grid = native_grid(full)
    if grid is not None:
        full = _enlarge(grid)
    elif max(full.shape) > paper.PHOTO_SIDE:
        return _from_photo(_photo_input(raw) if raw.ndim == 3 else full)
    x, scale = _shrink(full, WORK_SIDE)
    light_paper = _paper_is_light(x)
    ink = _clean_ink(1.0 - x if light_paper else x, even=grid is not None)
    rows, cols = _extent(ink)
    if scale > 1 and max(rows[1] - rows[0], cols[1] - cols[0]) < SMALL_INK:
        crop = _recrop(full, rows, cols, scale)
        x, _ = _shrink(crop, WORK_SIDE)
        ink = _clean_ink(1.0 - x if light_paper else x)
        rows, cols = _extent(ink)
    return _mnist_box(*_unstretch(ink, rows, cols, crisp=grid is not None)), None


def photo_input(grey: np.ndarray) -> np.ndarray | None:
    """``grey`` as the photo path takes it, when preprocessing treats it as a photo (large,
    and not a tiny digit scaled up); ``None`` otherwise. For callers that want only what
    :func:`paper.locate` finds (:func:`digitkit.intake.explain.explain`)."""
    raw = np.asarray(grey)
    if raw.ndim not in (2, 3) or max(raw.shape[:2]) <= paper.PHOTO_SIDE:
        return None
    if not may_be_upscaled(raw.shape[:2]):
        return _photo_input(raw)
    full = _as_unit_grey(raw)
    return full if native_grid(full) is None else None


def _photo_input(raw: np.ndarray) -> np.ndarray:
    """uint8 grey, or uint8 RGB (colour-aware ink), stays uint8: :func:`paper.locate`
    converts it in blocks (a 3 MP float copy costs more than finding the digit)."""
    if raw.dtype == np.uint8 and (raw.ndim == 2 or raw.shape[2] == 3):
        return raw
    return _as_unit_grey(raw)


def _from_photo(full: np.ndarray) -> tuple[np.ndarray, paper.Found]:
    """A large picture (uint8 grey or RGB, or float32 in [0, 1]): the digit found at full
    resolution (:mod:`digitkit.intake.paper`), then steps 1-5 and 8 on its crop, which is
    flat paper with dark ink."""
    found = paper.locate(full)
    if found is None:
        raise _no_ink()
    x, _ = _shrink(found.crop, WORK_SIDE)
    return _mnist_box(_clean_ink(1.0 - x)), found


def resize_only(grey: np.ndarray) -> np.ndarray:
    """Resize to 28x28 without any other change (inputs already in MNIST form)."""
    return _resize(_as_unit_grey(grey), SIZE, SIZE)


def _as_unit_grey(grey: np.ndarray) -> np.ndarray:
    x = np.asarray(grey)
    if x.ndim == 3:
        bytes_ = x.dtype == np.uint8
        x = x.mean(axis=2, dtype=np.float32) if x.shape[2] else np.zeros(x.shape[:2], np.float32)
        if bytes_:  # the mean of bytes is 0..255, not a byte: scaled here, or it clips to white
            x *= np.float32(1 / 255)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise InputError(f"expected a 2-D grey image. Received: shape={tuple(np.shape(grey))}")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)
    if x.min() < 0.0 or x.max() > 1.0:
        x = np.clip(x, 0.0, 1.0)
    return x


def _resize(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area averaging when shrinking, bilinear when growing (float, no 8-bit rounding)."""
    from PIL import Image

    if x.shape == (height, width):
        return x.astype(np.float32)
    shrinking = height <= x.shape[0] and width <= x.shape[1]
    if shrinking and height <= SMALL_OUTPUT and width <= SMALL_OUTPUT:
        # A digit-sized result: Pillow's weights as two small matrix products (~15 us; the
        # round trip through a Pillow image cost ~100 us), the same values to float rounding.
        return _unit(_box_weights(x.shape[0], height) @ x.astype(np.float32, copy=False)
                     @ _box_weights(x.shape[1], width).T)
    if shrinking and x.shape[0] < GATHER_TAPS * height and x.shape[1] < GATHER_TAPS * width:
        return _unit(_box_gather(x.astype(np.float32, copy=False), height, width))
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    out = np.asarray(Image.fromarray(np.ascontiguousarray(x, dtype=np.float32), mode="F").resize(
        (width, height), method), dtype=np.float32)
    return _unit(out)


def _box_spans(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """First and stop (exclusive) input pixel of each output pixel of Pillow's BOX filter when
    shrinking ``size`` pixels to ``out``, found as ``precompute_coeffs`` (``Resample.c``)
    finds them, float rounding at their ends included (a range from the rounded support,
    then the filter's ``-0.5 < t <= 0.5`` test on its two end pixels)."""
    scale = size / out
    centre = (np.arange(out, dtype=np.float64) + 0.5) * scale
    first = np.maximum((centre - scale * 0.5 + 0.5).astype(np.intp), 0)
    stop = np.minimum((centre + scale * 0.5 + 0.5).astype(np.intp), size)
    first += (first - centre + 0.5) * (1.0 / scale) <= -0.5
    stop -= (stop - 1 - centre + 0.5) * (1.0 / scale) > 0.5
    return first, stop


@functools.lru_cache(maxsize=4096)
def _box_weights(size: int, out: int) -> np.ndarray:
    """The (out, size) weights of Pillow's BOX filter (see :func:`_box_spans`): each output
    pixel is the mean of its span of inputs."""
    first, stop = _box_spans(size, out)
    column = np.arange(size)
    inside = (column >= first[:, None]) & (column < stop[:, None])
    weights = inside / np.maximum(stop - first, 1)[:, None].astype(np.float32)
    weights.flags.writeable = False
    return weights


@functools.lru_cache(maxsize=4096)
def _box_taps(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Pillow's BOX shrink as taps: input index (K, out) and weight (K, out) of the k-th
    pixel of each output's span (weight 0 past the span's end)."""
    first, stop = _box_spans(size, out)
    count = stop - first  # never 0 when shrinking by under GATHER_TAPS; 0 would give 0, as in Pillow
    k = np.arange(max(1, int(count.max())))[:, None]
    index = np.minimum(first + k, size - 1)
    weight = ((k < count) / np.maximum(count, 1)).astype(np.float32)
    index.flags.writeable = weight.flags.writeable = False
    return index, weight


def _box_gather(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pillow's BOX shrink of a float32 image when every span is short (fewer than
    :data:`GATHER_TAPS` pixels): a few gathers and multiply-adds per axis, columns first as
    Pillow goes (a 300 px digit to 160: ~1.7x faster than Pillow). The values are Pillow's
    to float32 rounding: Pillow sums in double, so a pixel may differ in its last bit
    (identical for square pictures with spans of one or two pixels). On the 5,000
    real-world digits of ``scripts/make_realworld_digits.py`` no prediction changed."""
    index, weight = _box_taps(x.shape[1], width)
    rows = x[:, index[0]] * weight[0]
    for k in range(1, len(index)):
        rows += x[:, index[k]] * weight[k]
    index, weight = _box_taps(x.shape[0], height)
    out = rows[index[0]] * weight[0][:, None]
    for k in range(1, len(index)):
        out += rows[index[k]] * weight[k][:, None]
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    """``x`` clipped to [0, 1], in place when writable (np.clip's overhead shows on small images)."""
    x = np.maximum(x, np.float32(0.0), out=x if x.flags.writeable else None)
    return np.minimum(x, np.float32(1.0), out=x)


def _shrink(x: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """``x`` with its longer side at most ``side``, and the factor it was shrunk by."""
    longer = max(x.shape)
    if longer <= side:
        return x, 1.0
    scale = side / longer
    small = _resize(x, max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale)))
    return small, longer / side


def _border(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])


def _paper_is_light(x: np.ndarray) -> bool:
    """Whether the border's typical level (the paper) is light."""
    return median(_border(x)) > 0.5


def _clean_ink(x: np.ndarray, even: bool = False) -> np.ndarray:
    """Bright ink on black with the lighting, paper grain and specks removed (steps 3-5).

    ``even``: the picture was drawn, not photographed (a tiny digit scaled up), so the paper
    is evenly lit even where the ink fills the border; no light field or top-hat, which
    would eat a stroke as wide as the picture's third.
    """
    border = np.sort(_border(x))
    low, high, middle = (border[int(f * (border.size - 1))] for f in (0.1, 0.6, 0.5))
    if even:
        x = x - np.float32(low)
        x = np.maximum(x, np.float32(0.0), out=x)
    elif high - low <= FLAT_PAPER:
        x = x - np.float32(middle)  # evenly lit paper (scans, drawings): no field to remove
        x = np.maximum(x, np.float32(0.0), out=x)
    else:
        x = _flatten_lighting(x)
        x = x - morphology.opening(x, _window(x.shape))
    # x >= 0 now, mostly exact zeros (paper): the levels below are worked out on the ink
    # pixels alone and put back once.
    where = x > 0
    ink = x[where]
    peak = _unit_quantile(ink, x.size, 0.995) if x.size > 200 else float(ink.max(initial=0.0))
    if not peak >= MIN_CONTRAST:
        raise _no_ink()
    ink = np.minimum(ink * np.float32(1.0 / peak), np.float32(1.0), out=ink)
    ink[ink < FLOOR_SHARE * _otsu(ink, x.size)] = 0.0  # keep the anti-aliased mid-tones MNIST has
    x = np.zeros_like(x)
    x[where] = ink
    return _drop_specks(x)


def _flatten_lighting(x: np.ndarray) -> np.ndarray:
    """Subtract a smooth (quadratic) light field fitted to the paper, i.e. the darker 60 %.

    A shadow or a lamp makes the paper a ramp; the top-hat alone leaves part of a steep ramp
    near the image edge, where it looks like a stroke. The field is fitted on a grid of at
    most ~32x32 samples and evaluated separably, so the cost hardly grows with the image.
    """
    height, width = x.shape
    if height < 8 or width < 8:
        return x
    step_r, step_c = max(1, height // 32), max(1, width // 32)
    ys = np.arange(height, dtype=np.float64) / height - 0.5
    xs = np.arange(width, dtype=np.float64) / width - 0.5
    sy = np.repeat(ys[::step_r], len(xs[::step_c]))
    sx = np.tile(xs[::step_c], len(ys[::step_r]))
    terms = np.stack([np.ones_like(sx), sx, sy, sx * sx, sy * sy, sx * sy], axis=1)
    values = x[::step_r, ::step_c].ravel().astype(np.float64)
    paper = values <= _quantile(values, 0.6)
    for _ in range(2):  # refit on pixels close to the first fit: ink never pulls it up
        a = terms[paper]
        coef = np.linalg.solve(a.T @ a + 1e-9 * np.eye(6), a.T @ values[paper])
        residual = values - terms @ coef
        paper = residual <= _quantile(residual, 0.6)
    c0, c1, c2, c3, c4, c5 = coef
    rows = (c0 + c2 * ys + c4 * ys * ys)[:, None]
    field = rows + (c1 * xs + c3 * xs * xs)[None, :] + np.outer(c5 * ys, xs)
    out = x - field.astype(np.float32)
    return np.clip(out, 0.0, 1.0, out=out)


def _quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile by selection (np.percentile's overhead dominates on small images)."""
    flat = values.ravel()
    k = min(flat.size - 1, int(q * (flat.size - 1) + 0.5))
    return float(np.partition(flat, k)[k])


def _unit_quantile(ink: np.ndarray, size: int, q: float, bins: int = 1024) -> float:
    """The ``q`` quantile, to 1/``bins``, of an image of ``size`` pixels whose values above 0
    are ``ink`` (in (0, 1]), by counting (mostly-zero images make selection algorithms slow)."""
    counts = _histogram(ink, size, bins)
    position = int(np.searchsorted(np.cumsum(counts), q * size, side="left"))
    return (min(position, bins - 1) + 1) / bins


def _histogram(ink: np.ndarray, size: int, bins: int) -> np.ndarray:
    """Counts in ``bins`` equal bins of [0, 1] (1.0 in the last) of an image of ``size`` pixels
    whose values above 0 are ``ink``: the zeros are counted, not binned, which makes this
    several times cheaper than binning every pixel, with the same counts."""
    counts = np.bincount(np.minimum((ink * bins).astype(np.intp), bins - 1), minlength=bins)
    counts[0] += size - ink.size
    return counts


def _window(shape: tuple[int, int]) -> int:
    # Wider than any stroke (MNIST strokes are ~1/8 of the digit), narrower than lighting changes.
    return max(3, (max(shape) // 3) | 1)


def _otsu(ink: np.ndarray, size: int) -> float:
    """Otsu's threshold of an image of ``size`` pixels in [0, 1] whose values above 0 are
    ``ink`` (0.5 for a flat image)."""
    hist = _histogram(ink, size, 64).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 0.5
    centres = (np.arange(64) + 0.5) / 64
    weight0 = np.cumsum(hist)
    weight1 = total - weight0
    mass0 = np.cumsum(hist * centres)
    mean0 = mass0 / np.maximum(weight0, 1e-12)
    mean1 = (mass0[-1] - mass0) / np.maximum(weight1, 1e-12)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return float(centres[int(np.argmax(between))])


def _drop_specks(x: np.ndarray) -> np.ndarray:
    """Zero connected blobs of ink much smaller than the largest one (8-connected)."""
    mask = x > 0.25
    if not mask.any():
        raise _no_ink()
    # Keep the faint anti-aliased rim next to kept strokes: grow the mask by one pixel.
    keep = morphology.grow(morphology.large_components(mask, SPECK_RATIO))
    return np.where(keep, x, np.float32(0.0))


def _extent(x: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """(first, last + 1) of the rows and of the columns holding ink."""
    ink = x > 0
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise _no_ink()
    return (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1)


def _recrop(full: np.ndarray, rows, cols, scale: float) -> np.ndarray:
    """The full-resolution region of the ink found at the working size, with a margin."""
    height, width = full.shape
    margin = max(rows[1] - rows[0], cols[1] - cols[0]) * 0.5 + 2
    top, bottom = (max(0, int((rows[0] - margin) * scale)), min(height, int((rows[1] + margin) * scale) + 1))
    left, right = (max(0, int((cols[0] - margin) * scale)), min(width, int((cols[1] + margin) * scale) + 1))
    return full[top:bottom, left:right]


def _enlarge(grid: np.ndarray) -> np.ndarray:
    """A tiny digit's native pixels enlarged smoothly (Lanczos, :data:`SMOOTH_FACTOR` times),
    so the enlargement's staircase edges or ramps do not look like strokes."""
    from PIL import Image

    size = (grid.shape[1] * SMOOTH_FACTOR, grid.shape[0] * SMOOTH_FACTOR)
    return _unit(np.asarray(Image.fromarray(grid, mode="F").resize(size, Image.Resampling.LANCZOS), np.float32))


def _unstretch(x: np.ndarray, rows, cols, crisp: bool = False) -> tuple[np.ndarray, tuple | None]:
    """Undo a box stretch: when the ink fills the frame, give its strokes one width again.

    A binary scan, or a tiny digit scaled up (``crisp``), goes through
    :func:`digitkit.intake.boxed.restore` (smooth outline, width from its strokes); other
    grey pictures are squeezed by :func:`~digitkit.intake.strokes.stretch_ratio`.

    Returns:
        The digit, and its extent (``rows, cols``) when unchanged (``None``: measure again).
    """
    (r0, r1), (c0, c1) = rows, cols
    height, width = x.shape
    spans = sorted(((r1 - r0) / height, (c1 - c0) / width))
    if spans[1] < FILLS_FRAME or spans[0] < FILLS_OTHER:
        return x, (rows, cols)  # a digit with margins around it kept its shape
    crop = x[r0:r1, c0:c1]
    if crisp or _is_binary(crop):
        fine = boxed.restore(crop, TINY_OUTLINE if crisp else 0.5)
        if fine.any():  # else the ink was all faint: squeeze it as a grey picture
            return fine, None
    ratio = stretch_ratio(crop > 0.5)
    if abs(ratio - 1.0) < 0.15:
        return crop, None
    new_h, new_w = (crop.shape[0], crop.shape[1] / ratio) if ratio > 1 else (crop.shape[0] * ratio, crop.shape[1])
    return _resize(crop, max(1, round(new_h)), max(1, round(new_w))), None


def _is_binary(x: np.ndarray) -> bool:
    return float(np.mean((x > 0.05) & (x < 0.95))) < 0.02


def _mnist_box(x: np.ndarray, extent: tuple | None = None) -> np.ndarray:
    """Crop to the ink (``extent``, measured when ``None``), scale the longer side to 20 px,
    centre the mass in 28x28."""
    (r0, r1), (c0, c1) = extent or _extent(x)
    crop = x[r0:r1, c0:c1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    digit = _resize(crop, new_h, new_w)
    top = float(digit.max())
    if top <= 0:
        raise _no_ink("the digit vanished when scaled to 20 pixels")
    digit = digit / np.float32(top)
    mass = float(digit.sum())
    com_r = float(digit.sum(axis=1) @ np.arange(new_h)) / mass
    com_c = float(digit.sum(axis=0) @ np.arange(new_w)) / mass
    # MNIST digits have their centre of mass near (14, 14) in pixel-index coordinates.
    off_r = min(max(round(SIZE / 2 - com_r), 0), SIZE - new_h)
    off_c = min(max(round(SIZE / 2 - com_c), 0), SIZE - new_w)
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[off_r:off_r + new_h, off_c:off_c + new_w] = digit  # in [0, 1]: resized, then over its peak
    return out
