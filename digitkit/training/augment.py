"""Training-time augmentation: small shifts, rotations, scale changes and stroke width.

Only used with ``digitkit fit --augment``. Every random draw is stateless and seeded by
``(run seed, epoch, batch)``, so augmented runs stay reproducible and resumable.
"""

from __future__ import annotations

import math
from typing import Any

from digitkit.spec import InputSpec

MAX_SHIFT_PX = 2.0
MAX_ROTATION_DEG = 10.0
SCALE_RANGE = (0.9, 1.1)
# Share of digits drawn thinner and thicker (3x3 erosion / dilation).
THIN_SHARE = 0.15
THICK_SHARE = 0.15


def _affine(images: Any, seed: Any) -> Any:
    import tensorflow as tf

    batch = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)

    def uniform(offset: int, low: float, high: float) -> Any:
        return tf.random.stateless_uniform([batch], seed=seed + [0, offset], minval=low, maxval=high)

    angle = uniform(1, -1.0, 1.0) * (MAX_ROTATION_DEG * math.pi / 180.0)
    scale = uniform(2, *SCALE_RANGE)
    shift_x, shift_y = uniform(3, -MAX_SHIFT_PX, MAX_SHIFT_PX), uniform(4, -MAX_SHIFT_PX, MAX_SHIFT_PX)
    center = (size - 1.0) / 2.0
    # The transform maps each output pixel to the input pixel it samples.
    a0, a1 = tf.cos(angle) / scale, tf.sin(angle) / scale
    b0, b1 = -tf.sin(angle) / scale, tf.cos(angle) / scale
    a2 = center - a0 * center - a1 * center - shift_x
    b2 = center - b0 * center - b1 * center - shift_y
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")


def _stroke(images: Any, seed: Any) -> Any:
    import tensorflow as tf

    draw = tf.random.stateless_uniform([tf.shape(images)[0], 1, 1, 1], seed=seed + [0, 5])
    thick = tf.nn.max_pool2d(images, 3, 1, "SAME")
    thin = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    out = tf.where(draw < THIN_SHARE, thin, images)
    return tf.where(draw > 1.0 - THICK_SHARE, thick, out)


def augment_batch(images: Any, input_spec: InputSpec, *, seed: tuple[Any, Any, Any]) -> Any:
    """Augment a batch of 28x28x1 digits in [0, 1] and shape it for the model.

    Args:
        images: float32 tensor (B, 28, 28, 1).
        input_spec: the model's input; digits are resized and reshaped to it.
        seed: ``(run seed, epoch, batch index)``; equal seeds give equal batches.

    Returns:
        float32 tensor (B, *input_spec.shape).
    """
    import tensorflow as tf

    run_seed, epoch, step = seed
    base = tf.cast(epoch, tf.int64) * 1_000_003 + tf.cast(step, tf.int64) * 16
    stateless_seed = tf.stack([tf.constant(run_seed, tf.int64), base])
    out = _stroke(_affine(images, stateless_seed), stateless_seed)
    if input_spec.image_size != 28:
        out = tf.image.resize(out, (input_spec.image_size, input_spec.image_size), antialias=True)
    out = tf.clip_by_value(out, 0.0, 1.0)
    return tf.reshape(out, tf.concat([[tf.shape(out)[0]], list(input_spec.shape)], axis=0))
