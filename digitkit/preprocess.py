"""Turning any grey picture of a digit into an MNIST-style 28x28 digit.

One pure function, :func:`preprocess_image`, used everywhere an image file enters
digitkit (predict, preview of files, image-folder datasets), so training and prediction
see a user's digit the same way. It follows how MNIST itself was made (LeCun et al.):
the digit's bounding box is scaled so its longer side is 20 pixels, keeping the aspect
ratio, and pasted into a 28x28 field with its centre of mass at the centre.

Before that, a photo or scan of dark ink on light paper is brought into MNIST form:

1. work on a copy whose longer side is at most :data:`WORK_SIDE` (area averaging, which
   also averages away sensor noise and paper texture);
2. invert when the border is light (paper), so ink is bright on black;
3. remove the background with a white top-hat (the image minus its morphological opening
   with a window wider than a stroke), which flattens uneven lighting and shadows;
4. stretch the contrast to the ink's brightness and zero everything below half of an
   Otsu threshold (paper grain, JPEG ringing);
5. drop specks: connected blobs much smaller than the largest one;
6. crop to the remaining ink, scale to 20 px, centre by mass.

:func:`resize_only` is the ``--no-preprocess`` path for inputs already in MNIST form.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from digitkit.errors import InputError

SIZE = 28
BOX = 20
WORK_SIDE = 160
# The ink must stand out from the paper by this much (0..1 grey) to count as ink.
MIN_CONTRAST = 0.08
# Blobs smaller than this share of the largest blob are specks, not strokes.
SPECK_RATIO = 0.08
# Grey below this share of the Otsu threshold is paper grain or JPEG ringing, not ink.
FLOOR_SHARE = 0.5


def preprocess_image(grey: np.ndarray) -> np.ndarray:
    """Make an MNIST-style digit from a grey picture of one digit.

    Args:
        grey: 2-D array (or H x W x C, averaged), float in [0, 1] (uint8 is scaled), any
            size, dark ink on light paper or light ink on dark.

    Returns:
        float32 array 28 x 28 in [0, 1], white ink on black, centred like MNIST.

    Raises:
        InputError: the picture is empty or holds no ink (all white, all black, flat).
    """
    x = _as_unit_grey(grey)
    x = _shrink(x, WORK_SIDE)
    x = _ink_bright(x)
    x = _flatten_lighting(x)
    x = x - _opening(x, _window(x.shape))
    peak = float(np.percentile(x, 99.5)) if x.size > 200 else float(x.max())
    if not peak >= MIN_CONTRAST:
        raise InputError("no ink found: the image is blank or has too little contrast",
                         hint="give a picture of one digit, dark on light or light on dark")
    x = np.clip(x / peak, 0.0, 1.0)
    floor = FLOOR_SHARE * _otsu(x)
    x = np.where(x >= floor, x, 0.0)  # keep the anti-aliased mid-tones MNIST has
    x = _drop_specks(x)
    return _mnist_box(x)


def resize_only(grey: np.ndarray) -> np.ndarray:
    """Resize to 28x28 without any other change (inputs already in MNIST form)."""
    x = _as_unit_grey(grey)
    return _resize(x, SIZE, SIZE)


def _as_unit_grey(grey: np.ndarray) -> np.ndarray:
    x = np.asarray(grey)
    if x.ndim == 3:
        x = x.mean(axis=2) if x.shape[2] else np.zeros(x.shape[:2])
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise InputError(f"expected a 2-D grey image. Received: shape={tuple(np.shape(grey))}")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    x = np.nan_to_num(x.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(x, 0.0, 1.0)


def _resize(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area averaging when shrinking, bilinear when growing (float, no 8-bit rounding)."""
    from PIL import Image

    if x.shape == (height, width):
        return x.astype(np.float32)
    shrinking = height <= x.shape[0] and width <= x.shape[1]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    out = np.asarray(Image.fromarray(np.ascontiguousarray(x, dtype=np.float32), mode="F").resize(
        (width, height), method), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def _shrink(x: np.ndarray, side: int) -> np.ndarray:
    longer = max(x.shape)
    if longer <= side:
        return x
    scale = side / longer
    return _resize(x, max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale)))


def _ink_bright(x: np.ndarray) -> np.ndarray:
    """Invert when the paper (the border's typical level) is light."""
    border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    return 1.0 - x if float(np.median(border)) > 0.5 else x


def _flatten_lighting(x: np.ndarray) -> np.ndarray:
    """Subtract a smooth (quadratic) light field fitted to the paper, i.e. the darker 60 %.

    A shadow or a lamp makes the paper a ramp; the top-hat alone leaves part of a steep ramp
    near the image edge, where it looks like a stroke.
    """
    height, width = x.shape
    if height < 8 or width < 8:
        return x
    ys, xs = np.mgrid[0:height, 0:width]
    ys, xs = ys.ravel() / height - 0.5, xs.ravel() / width - 0.5
    terms = np.stack([np.ones_like(xs), xs, ys, xs * xs, ys * ys, xs * ys], axis=1)
    values = x.ravel().astype(np.float64)
    sample = np.arange(0, values.size, 3)  # a third of the pixels fit a 6-term field well
    paper = sample[values[sample] <= np.percentile(values[sample], 60)]
    for _ in range(2):  # refit on pixels close to the first fit: ink never pulls it up
        a = terms[paper]
        coef = np.linalg.solve(a.T @ a + 1e-9 * np.eye(6), a.T @ values[paper])
        field = terms @ coef
        residual = values[sample] - field[sample]
        paper = sample[residual <= np.percentile(residual, 60)]
    return np.clip(values - field, 0.0, 1.0).reshape(height, width).astype(np.float32)


def _window(shape: tuple[int, int]) -> int:
    # Wider than any stroke (MNIST strokes are ~1/8 of the digit), narrower than lighting changes.
    return max(3, (max(shape) // 3) | 1)


def _sliding(x: np.ndarray, size: int, axis: int, reduce) -> np.ndarray:
    pad = size // 2
    widths = [(0, 0), (0, 0)]
    widths[axis] = (pad, pad)
    padded = np.pad(x, widths, mode="edge")
    return reduce(np.lib.stride_tricks.sliding_window_view(padded, size, axis=axis), axis=-1)


def _opening(x: np.ndarray, size: int) -> np.ndarray:
    """Morphological opening (erosion then dilation) with a square window, separably."""
    eroded = _sliding(_sliding(x, size, 0, np.min), size, 1, np.min)
    return _sliding(_sliding(eroded, size, 0, np.max), size, 1, np.max)


def _otsu(x: np.ndarray) -> float:
    """Otsu's threshold of values in [0, 1] (0.5 for a flat image)."""
    hist, edges = np.histogram(x, bins=64, range=(0.0, 1.0))
    hist = hist.astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 0.5
    centres = (edges[:-1] + edges[1:]) / 2
    weight0 = np.cumsum(hist)
    weight1 = total - weight0
    mass0 = np.cumsum(hist * centres)
    mean0 = mass0 / np.maximum(weight0, 1e-12)
    mean1 = (mass0[-1] - mass0) / np.maximum(weight1, 1e-12)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return float(centres[int(np.argmax(between))])


def _drop_specks(x: np.ndarray) -> np.ndarray:
    """Zero connected blobs of ink much smaller than the largest one."""
    mask = x > 0.25
    if not mask.any():
        raise InputError("no ink found: the image is blank or has too little contrast",
                         hint="give a picture of one digit, dark on light or light on dark")
    labels, sizes = _components_pooled(mask)
    keep = np.flatnonzero(sizes >= SPECK_RATIO * sizes.max()) + 1
    kept = np.isin(labels, keep) & mask
    # Keep the faint anti-aliased rim next to kept strokes: grow the mask by one pixel.
    grown = _sliding(_sliding(kept.astype(np.float32), 3, 0, np.max), 3, 1, np.max) > 0
    return np.where(grown, x, 0.0).astype(np.float32)


def _components_pooled(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Components of a 2x2-pooled mask for large images (4x fewer pixels to visit)."""
    height, width = mask.shape
    if height * width <= 80 * 80:
        return _components(mask)
    padded = np.pad(mask, ((0, height % 2), (0, width % 2)))
    pooled = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).any(axis=(1, 3))
    labels, sizes = _components(pooled)
    full = np.repeat(np.repeat(labels, 2, axis=0), 2, axis=1)[:height, :width]
    return full, sizes


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected components: a label image (0 = background) and each label's size."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    height, width = mask.shape
    sizes = []
    for start in zip(*np.nonzero(mask)):
        if labels[start]:
            continue
        label = len(sizes) + 1
        labels[start] = label
        queue, count = deque([start]), 0
        while queue:
            r, c = queue.popleft()
            count += 1
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < height and 0 <= cc < width and mask[rr, cc] and not labels[rr, cc]:
                        labels[rr, cc] = label
                        queue.append((rr, cc))
        sizes.append(count)
    return labels, np.asarray(sizes, dtype=np.int64)


def _mnist_box(x: np.ndarray) -> np.ndarray:
    """Crop to the ink, scale the longer side to 20 px, centre the mass in 28x28."""
    rows = np.flatnonzero(x.max(axis=1) > 0)
    cols = np.flatnonzero(x.max(axis=0) > 0)
    crop = x[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    digit = _resize(crop, new_h, new_w)
    top = float(digit.max())
    if top <= 0:
        raise InputError("no ink found: the digit vanished when scaled to 20 pixels")
    digit = digit / top
    mass = digit.sum()
    com_r = float((digit.sum(axis=1) * np.arange(new_h)).sum() / mass)
    com_c = float((digit.sum(axis=0) * np.arange(new_w)).sum() / mass)
    # MNIST digits have their centre of mass near (14, 14) in pixel-index coordinates.
    off_r = int(np.clip(round(SIZE / 2 - com_r), 0, SIZE - new_h))
    off_c = int(np.clip(round(SIZE / 2 - com_c), 0, SIZE - new_w))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[off_r:off_r + new_h, off_c:off_c + new_w] = digit
    return np.clip(out, 0.0, 1.0).astype(np.float32)
