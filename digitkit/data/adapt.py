"""Shaping 28x28 digits for a model's declared input, in NumPy (no TensorFlow).

Training pipelines and prediction both call :func:`adapt_images`, so a model sees digits
the same way whichever path feeds it.
"""

from __future__ import annotations

import numpy as np

from digitkit.spec import InputSpec


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    out = np.empty((images.shape[0], size, size), dtype=np.float32)
    for i, image in enumerate(images):
        out[i] = np.asarray(Image.fromarray(image, mode="F").resize((size, size), Image.Resampling.BILINEAR))
    return out


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
