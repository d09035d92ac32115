"""The numpy filters preprocessing uses give what scipy.ndimage (when installed) and numpy give."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.intake import morphology



@pytest.fixture
def ndimage():
    return pytest.importorskip("scipy.ndimage")
SHAPES = [(1, 1), (1, 7), (7, 1), (2, 3), (28, 28), (31, 17), (160, 120), (45, 160)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [1, 3, 5, 17, 53, 161])
def test_opening_is_ndimage_grey_opening(shape, size, ndimage):
    x = np.random.default_rng(size).random(shape, dtype=np.float32)
    expected = ndimage.grey_opening(x, size=(size, size), mode="nearest")
    np.testing.assert_array_equal(morphology.opening(x, size), expected)


@pytest.mark.parametrize("shape", SHAPES)
def test_grow_is_3x3_maximum_filter(shape, ndimage):
    mask = np.random.default_rng(1).random(shape) > 0.8
    expected = ndimage.maximum_filter(mask.view(np.uint8), size=3, mode="constant") > 0
    np.testing.assert_array_equal(morphology.grow(mask), expected)


@pytest.mark.parametrize("shape", [(16, 16), (32, 32), (5, 40), (100, 80)])
@pytest.mark.parametrize("sigma", [0.3, 0.48, 0.96, 2.5])
def test_gaussian_is_ndimage_gaussian_filter(shape, sigma, ndimage):
    x = (np.random.default_rng(2).random(shape) > 0.5).astype(np.float32)
    expected = ndimage.gaussian_filter(x, sigma)
    np.testing.assert_allclose(morphology.gaussian(x, sigma), expected, atol=1e-5)


def _ndimage_large_components(ndimage, mask, share):
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    keep = sizes >= share * sizes.max()
    keep[0] = False
    return keep[labels]


@pytest.mark.parametrize("density", [0.0, 0.05, 0.3, 0.5, 0.6, 0.9, 1.0])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("share", [0.0, 0.08, 0.5, 1.0])
def test_large_components_are_ndimage_labels_kept_by_size(shape, density, share, ndimage):
    mask = np.random.default_rng(int(density * 100)).random(shape) < density
    expected = _ndimage_large_components(ndimage, mask, share) if mask.any() else mask
    np.testing.assert_array_equal(morphology.large_components(mask, share), expected)


def test_components_follow_diagonals_and_spirals(ndimage):
    cross = np.eye(40, dtype=bool) | np.eye(40, dtype=bool)[::-1]
    cross[0, :] = cross[:, 0] = True
    cross[20:23, 30:33] = False
    spiral = np.zeros((41, 41), bool)
    top, left, bottom, right = 0, 0, 40, 40
    while top <= bottom and left <= right:  # a one-pixel spiral: one long winding component
        spiral[top, left:right + 1] = True
        spiral[top:bottom + 1, right] = True
        spiral[bottom, left:right + 1] = True
        spiral[top + 2:bottom + 1, left] = True
        top, left, bottom, right = top + 2, left + 2, bottom - 2, right - 2
    for m in (cross, spiral):
        m = m.copy()
        m[-3:, :3] = False
        m[-2, 1] = True  # a one-pixel speck
        kept = morphology.large_components(m, 0.08)
        np.testing.assert_array_equal(kept, _ndimage_large_components(ndimage, m, 0.08))
        assert m[-2, 1] and not kept[-2, 1]


@pytest.mark.parametrize("size", [21, 101, 5000])
@pytest.mark.parametrize("scale", [1, 5, 40])
def test_byte_percentiles_are_numpy_percentiles(size, scale):
    from digitkit.intake.alpha import byte_percentiles

    values = np.clip(np.random.default_rng(size).exponential(scale, size), 0, 255).astype(np.uint8)
    for percents in ((1, 99), (5, 95)):
        assert byte_percentiles(values, percents) == list(np.percentile(values, percents))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [1, 3, 5, 17, 53])
def test_closing_and_erosion_are_ndimage_grey_closing_and_erosion(shape, size, ndimage):
    x = np.random.default_rng(size + 7).random(shape, dtype=np.float32)
    window = (size, size)
    np.testing.assert_array_equal(morphology.closing(x, size), ndimage.grey_closing(x, size=window, mode="nearest"))
    np.testing.assert_array_equal(morphology.erode(x, size), ndimage.grey_erosion(x, size=window, mode="nearest"))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_block_min_and_max_are_reductions_over_blocks(shape, k, dtype):
    if min(shape) < k:
        pytest.skip("no whole block")
    x = (np.random.default_rng(k).random(shape) * 255).astype(dtype)
    h, w = shape[0] // k, shape[1] // k
    blocks = x[:h * k, :w * k].reshape(h, k, w, k)
    np.testing.assert_array_equal(morphology.block_min(x, k), blocks.min(axis=(1, 3)))
    np.testing.assert_array_equal(morphology.block_max(x, k), blocks.max(axis=(1, 3)))


@pytest.mark.parametrize("density", [0.0, 0.05, 0.3, 0.6, 1.0])
@pytest.mark.parametrize("shape", SHAPES)
def test_label_is_ndimage_label(shape, density, ndimage):
    mask = np.random.default_rng(int(density * 100) + 1).random(shape) < density
    labels, count = morphology.label(mask)
    expected, expected_count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    assert count == expected_count
    np.testing.assert_array_equal(labels, expected)
