"""How digits are captured and written, as batch transforms for :class:`~digitkit.zoo.digit_augment.DigitAugment`.

Each transform maps a batch of digits (B, side, side, 1) in [0, 1] to the same shape and
range, with every random value drawn through ``draw(shape, low, high)`` (the layer's seeded
generator), so a seed repeats a batch. They model what is left of a capture or a hand after
digitkit's intake has cropped, scaled and centred the digit:

- writing: ``slant`` (a shear, unlike a rotation it keeps verticals' tops and bottoms level),
  ``elastic`` (Simard et al. 2003: a smooth random displacement field);
- capture: ``box_stretch`` (the ink's box stretched to fill a square, as several public
  digit sets store digits), ``coarse_grid`` (down to 8x8 with 17 grey levels, as the UCI
  optical digits, or 16x16, then back up blocky or smooth), ``blur``, ``jpeg`` (8x8 block
  DCT quantisation at quality 30-90, the artefact itself), ``paper_light`` (uneven light
  dimming the ink across the digit, and paper texture left in the background).

None is used unless a share is given for it (``DigitAugment(capture={...})``): today's
``cnn-best`` recipe draws exactly what it drew before. Writing styles that change a digit's
shape by its label (a bar on a 7, a flag on a 1) need the label, which a layer never sees:
they belong to the training data, not here.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from keras import ops

Draw = Callable[[tuple, float, float], Any]
# The standard JPEG luminance quantisation table (ITU T.81, Annex K), scaled by quality.
JPEG_LUMA = np.array([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55], [14, 13, 16, 24, 40, 57, 69, 56],
    [14, 17, 22, 29, 51, 87, 80, 62], [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], np.float32)
CAPTURE_ORDER = ("slant", "elastic", "box_stretch", "coarse_grid", "blur", "jpeg", "paper_light")


def _per_digit(values: Any) -> Any:
    return ops.reshape(values, (-1, 1, 1, 1))


def _batch(images: Any) -> Any:
    return ops.shape(images)[0]


def _affine(images: Any, rows: list[Any]) -> Any:
    zeros = ops.zeros_like(rows[0])
    transform = ops.stack([*rows, zeros, zeros], axis=1)
    return ops.image.affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                                      fill_value=0.0, data_format="channels_last")


def _peak_to_one(images: Any) -> Any:
    """Ink scaled so each digit's darkest stroke is 1, as the intake leaves every digit."""
    peak = ops.max(images, axis=(1, 2, 3), keepdims=True)
    return images / ops.maximum(peak, 1e-3)


def slant(images: Any, draw: Draw, max_shear: float = 0.35) -> Any:
    """Shear along x by up to ``max_shear`` pixels per row, about the centre row."""
    side = images.shape[1]
    shear = draw((_batch(images),), -max_shear, max_shear)
    ones, zeros = ops.ones_like(shear), ops.zeros_like(shear)
    centre = (side - 1) / 2.0
    return _affine(images, [ones, shear, -shear * centre, zeros, ones, zeros])


def _sample(images: Any, x: Any, y: Any) -> Any:
    """Bilinear samples of ``images`` at (B, side, side) positions ``x``, ``y``; zero outside."""
    side = images.shape[1]
    flat = ops.reshape(images, (-1, side * side))
    x0, y0 = ops.floor(x), ops.floor(y)
    wx, wy = x - x0, y - y0

    def tap(xi: Any, yi: Any) -> Any:
        inside = ops.cast((xi >= 0) & (xi <= side - 1) & (yi >= 0) & (yi <= side - 1), images.dtype)
        index = ops.cast(ops.clip(yi, 0, side - 1) * side + ops.clip(xi, 0, side - 1), "int32")
        values = ops.take_along_axis(flat, ops.reshape(index, (-1, side * side)), axis=1)
        return ops.reshape(values, (-1, side, side)) * inside

    out = (tap(x0, y0) * (1 - wx) * (1 - wy) + tap(x0 + 1, y0) * wx * (1 - wy)
           + tap(x0, y0 + 1) * (1 - wx) * wy + tap(x0 + 1, y0 + 1) * wx * wy)
    return ops.expand_dims(out, -1)


def elastic(images: Any, draw: Draw, alpha: float = 2.0, knots: int = 4) -> Any:
    """Each pixel moved by a smooth random field (``knots`` x ``knots`` random vectors of up to
    ``alpha`` pixels, interpolated bicubically): the wobble of a hand, not of a camera."""
    side = images.shape[1]
    field = draw((_batch(images), knots, knots, 2), -alpha, alpha)
    field = ops.image.resize(field, (side, side), interpolation="bicubic")
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    return _sample(images, xs[None] + field[..., 0], ys[None] + field[..., 1])


def _extent(mask: Any, axis: int) -> tuple[Any, Any]:
    """First and last index holding ink along ``axis`` (0 and the last index when none)."""
    seen = ops.cast(ops.any(mask, axis=axis), "float32")
    count = seen.shape[-1]
    first = ops.cast(ops.argmax(seen, axis=-1), "float32")
    last = count - 1 - ops.cast(ops.argmax(ops.flip(seen, axis=-1), axis=-1), "float32")
    return first, last


def box_stretch(images: Any, draw: Draw, box: int = 20) -> Any:
    """The ink's bounding box stretched to fill a ``box`` x ``box`` square in the middle
    (aspect ratio lost, as in box-normalised scans)."""
    side = images.shape[1]
    mask = images[..., 0] > 0.3
    row0, row1 = _extent(mask, 2)
    col0, col1 = _extent(mask, 1)
    margin = (side - box) / 2.0 - 0.5  # the box's outer edge, in pixel-centre coordinates
    scale_x, scale_y = (col1 - col0 + 1) / box, (row1 - row0 + 1) / box
    zeros = ops.zeros_like(scale_x)
    return _affine(images, [scale_x, zeros, col0 - 0.5 - margin * scale_x,
                            zeros, scale_y, row0 - 0.5 - margin * scale_y])


def coarse_grid(images: Any, draw: Draw, frame: int = 24) -> Any:
    """Through an 8x8 grid (17 grey levels, as the UCI optical digits) or a 16x16 one laid over
    the digit's middle ``frame`` pixels (MNIST's 20 px digit and a margin: 3 px cells at 8x8),
    then back up nearest-neighbour (blocky) or bilinear (smooth), each half the time."""
    side = images.shape[1]
    start = (side - frame) // 2
    middle = images[:, start:start + frame, start:start + frame, :]
    batch = _batch(images)
    grid, blocky = _per_digit(draw((batch,), 0.0, 1.0)), _per_digit(draw((batch,), 0.0, 1.0))
    found = []
    for cells in (8, 16):
        small = ops.image.resize(middle, (cells, cells), interpolation="area")
        if cells == 8:
            small = ops.round(_peak_to_one(small) * 16.0) / 16.0
        up = ops.where(blocky < 0.5, ops.image.resize(small, (frame, frame), interpolation="nearest"),
                       ops.image.resize(small, (frame, frame), interpolation="bilinear"))
        found.append(up)
    chosen = ops.where(grid < 0.5, found[0], found[1])
    out = ops.pad(chosen, [[0, 0], [start, side - frame - start], [start, side - frame - start], [0, 0]])
    return _peak_to_one(ops.clip(out, 0.0, 1.0))


def blur(images: Any, draw: Draw) -> Any:
    """A soft focus: up to two passes of a 3x3 binomial kernel (sigma up to ~1 px), blended."""
    kernel = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]).astype(np.float32) / 16.0
    kernel = ops.convert_to_tensor(kernel.reshape(3, 3, 1, 1))
    once = ops.conv(images, kernel, padding="same")
    twice = ops.conv(once, kernel, padding="same")
    amount = _per_digit(draw((_batch(images),), 0.0, 2.0))
    mixed = ops.where(amount < 1.0, images + amount * (once - images), once + (amount - 1.0) * (twice - once))
    return _peak_to_one(ops.clip(mixed, 0.0, 1.0))


def _dct_matrix() -> np.ndarray:
    k, n = np.mgrid[0:8, 0:8].astype(np.float64)
    matrix = np.cos((2 * n + 1) * k * math.pi / 16) * np.sqrt(2 / 8)
    matrix[0] /= np.sqrt(2)
    return matrix.astype(np.float32)


def jpeg(images: Any, draw: Draw, quality: tuple[float, float] = (30.0, 90.0)) -> Any:
    """JPEG's loss: 8x8 block DCT coefficients quantised with the luminance table at a quality
    drawn in ``quality`` (ringing and blocking around strokes); no chroma, no entropy coding."""
    side = images.shape[1]
    padded_side = -(-side // 8) * 8
    blocks_per_side = padded_side // 8
    pixels = ops.pad(images[..., 0], [[0, 0], [0, padded_side - side], [0, padded_side - side]]) * 255.0 - 128.0
    blocks = ops.transpose(ops.reshape(pixels, (-1, blocks_per_side, 8, blocks_per_side, 8)), (0, 1, 3, 2, 4))
    dct = ops.convert_to_tensor(_dct_matrix())
    coefficients = ops.einsum("ij,bpqjk,lk->bpqil", dct, blocks, dct)
    q = draw((_batch(images),), *quality)
    scale = ops.where(q < 50, 5000.0 / q, 200.0 - 2.0 * q) / 100.0
    table = ops.clip(ops.floor(ops.reshape(scale, (-1, 1, 1, 1, 1)) * JPEG_LUMA + 0.5), 1.0, 255.0)
    coefficients = ops.round(coefficients / table) * table
    restored = ops.einsum("ji,bpqjk,kl->bpqil", dct, coefficients, dct)
    restored = ops.reshape(ops.transpose(restored, (0, 1, 3, 2, 4)), (-1, padded_side, padded_side))
    return ops.clip((restored[:, :side, :side, None] + 128.0) / 255.0, 0.0, 1.0)


def paper_light(images: Any, draw: Draw, max_shade: float = 0.5, max_texture: float = 0.06) -> Any:
    """Uneven light (the ink dimmed by up to ``max_shade`` along a ramp in a random direction)
    and paper texture (smooth blotches up to ``max_texture`` in the background: what the
    intake's paper removal leaves of it is faint, and MNIST's background is exactly 0)."""
    side = images.shape[1]
    batch = _batch(images)
    angle = draw((batch,), 0.0, 2.0 * math.pi)
    cos, sin = _per_digit(ops.cos(angle)), _per_digit(ops.sin(angle))
    ys, xs = (v[None, :, :, None] / (side - 1) for v in np.mgrid[0:side, 0:side].astype(np.float32))
    low = ops.minimum(cos, 0.0) + ops.minimum(sin, 0.0)
    ramp = (cos * xs + sin * ys - low) / ops.maximum(ops.abs(cos) + ops.abs(sin), 1e-6)  # 0..1 across the digit
    gain = 1.0 - _per_digit(draw((batch,), 0.0, max_shade)) * ramp
    texture = ops.image.resize(draw((batch, 7, 7, 1), 0.0, 1.0), (side, side), interpolation="bilinear") ** 2
    level = _per_digit(draw((batch,), 0.0, max_texture))
    return ops.clip(images * gain + texture * level * (1.0 - images), 0.0, 1.0)


TRANSFORMS: dict[str, Callable[[Any, Draw], Any]] = {
    "slant": slant, "elastic": elastic, "box_stretch": box_stretch, "coarse_grid": coarse_grid, "blur": blur,
    "jpeg": jpeg, "paper_light": paper_light}
