"""Shaping 28x28 digits for a model's declared input, in NumPy (no TensorFlow).

Training pipelines and prediction both call :func:`adapt_images`, so a model sees digits
the same way whichever path feeds it.
"""

from __future__ import annotations

import functools

import numpy as np

from digitkit.spec import InputSpec


@functools.lru_cache(maxsize=8)
def _resize_matrix(in_size: int, out_size: int) -> np.ndarray:
    """(out_size x in_size) weights of Pillow's BILINEAR resampling along one axis.

    Pillow's bilinear filter is separable and, when shrinking, widens its triangle by the
    scale factor (antialiasing); these are the same coefficients (libImaging/Resample.c
    ``precompute_coeffs``), so ``R @ image @ R.T`` equals ``Image.resize`` on mode "F" up to
    float rounding while doing a whole batch in two matrix products.
    """
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale
    weights = np.zeros((out_size, in_size), np.float64)
    for out in range(out_size):
        center = (out + 0.5) * scale
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), in_size)
        x = (np.arange(low, high) - center + 0.5) / filterscale
        w = np.clip(1.0 - np.abs(x), 0.0, None)
        if w.sum() > 0:
            weights[out, low:high] = w / w.sum()
    return weights.astype(np.float32)


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of N x H x W float images to N x size x size (as Pillow does it)."""
    rows = _resize_matrix(images.shape[1], size)
    cols = _resize_matrix(images.shape[2], size)
    return np.einsum("ij,njk,lk->nil", rows, images.astype(np.float32, copy=False), cols, optimize=True)


def adapt_images(images: np.ndarray, input_spec: InputSpec) -> np.ndarray:
    """Scale to [0, 1] float32, resize if the model wants another size, reshape.

    Args:
        images: N x 28 x 28, uint8 in [0, 255] or float in [0, 1].
        input_spec: the model's declared input.

    Returns:
        float32 array of shape ``(N, *input_spec.shape)``.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        x = images.astype(np.float32) / 255.0
    else:
        x = images.astype(np.float32, copy=False)
    if x.shape[1:] != (input_spec.image_size, input_spec.image_size):
        x = np.clip(_resize(x, input_spec.image_size), 0.0, 1.0)
    return x.reshape((x.shape[0], *input_spec.shape))


def encode_labels(labels: np.ndarray, encoding: str, num_classes: int = 10) -> np.ndarray:
    """Integer labels as the loss wants them: ``"integer"`` or ``"one-hot"`` float32."""
    labels = np.asarray(labels, dtype=np.int64)
    if encoding == "one-hot":
        return np.eye(num_classes, dtype=np.float32)[labels]
    return labels
