"""``DigitAugment``: training-only augmentation matched to real-world digits, as a Keras layer.

Kept inside the model (like Keras' own ``RandomRotation``) so that ``digitkit fit cnn-best``
trains exactly as the shipped weights were trained, and inference sees the digit untouched.
The draws follow what digits photographed or scanned by users differ in from MNIST after
digitkit's preprocessing: a slightly off centre, tilted, scaled or squeezed digit, a thinner
or thicker pen, and hard black/white (binarised) strokes. More capture and writing transforms
(slant, elastic, box-stretch, coarse grids, blur, JPEG, paper and light;
:mod:`digitkit.zoo.capture_transforms`) join only when given a share (``capture={...}``).

This module imports Keras; only the cnn-best builder and the model-file loader import it
(the loader so that a saved ``cnn-best`` run loads with the layer registered).
"""

from __future__ import annotations

import math

import keras
from keras import ops

MAX_SHIFT_PX = 2.5
MAX_ROTATION_DEG = 12.0
SCALE_RANGE = (0.85, 1.15)
# Width/height ratio drawn log-uniformly in [1/MAX_ASPECT, MAX_ASPECT].
MAX_ASPECT = 1.25
THIN_SHARE = 0.12
THICK_SHARE = 0.15
BINARISE_SHARE = 0.15
BINARISE_THRESHOLD = (0.25, 0.6)
# The capture shares cnn-best's recipe gives this layer: digitkit.zoo.cnn_best.CAPTURE_SHARES.


@keras.saving.register_keras_serializable(package="digitkit")
class DigitAugment(keras.layers.Layer):
    """Random shift, rotation, scale, aspect, stroke width and binarisation (training only).

    Args:
        max_shift: largest shift in pixels, each axis.
        max_rotation: largest rotation in degrees, either way.
        scale_range: (low, high) zoom factor.
        max_aspect: largest width/height stretch factor (drawn log-uniformly).
        thin_share, thick_share: share of digits eroded / dilated by a 3x3 neighbourhood.
        binarise_share: share of digits thresholded to 0/1.
        capture: share of digits each transform of
            :data:`digitkit.zoo.capture_transforms.TRANSFORMS` is applied to (by name); none
            by default, and a transform without a share draws nothing, so the default layer
            repeats the shipped recipe's draws exactly.
        seed: seed of the layer's random draws.
    """

    def __init__(self, max_shift: float = MAX_SHIFT_PX, max_rotation: float = MAX_ROTATION_DEG,
                 scale_range: tuple[float, float] = SCALE_RANGE, max_aspect: float = MAX_ASPECT,
                 thin_share: float = THIN_SHARE, thick_share: float = THICK_SHARE,
                 binarise_share: float = BINARISE_SHARE, capture: dict[str, float] | None = None,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        from digitkit.zoo.capture_transforms import CAPTURE_ORDER

        capture = {str(k): float(v) for k, v in (capture or {}).items()}
        unknown = sorted(set(capture) - set(CAPTURE_ORDER))
        if unknown or any(not 0 <= v <= 1 for v in capture.values()):
            raise ValueError(f"expected capture shares in [0, 1] for transforms among {CAPTURE_ORDER}. "
                             f"Received: capture={capture!r}")
        self.capture = {k: capture[k] for k in CAPTURE_ORDER if capture.get(k, 0.0) > 0}
        low, high = (float(v) for v in scale_range)
        if not 0 < low <= high:
            raise ValueError(f"expected 0 < low <= high. Received: scale_range={scale_range!r}")
        if max_aspect < 1:
            raise ValueError(f"expected max_aspect >= 1. Received: max_aspect={max_aspect}")
        if not 0 <= thin_share + thick_share <= 1 or min(thin_share, thick_share, binarise_share) < 0:
            raise ValueError(f"expected shares in [0, 1] with thin + thick <= 1. Received: thin_share={thin_share}, "
                             f"thick_share={thick_share}, binarise_share={binarise_share}")
        self.max_shift, self.max_rotation = float(max_shift), float(max_rotation)
        self.scale_range, self.max_aspect = (low, high), float(max_aspect)
        self.thin_share, self.thick_share = float(thin_share), float(thick_share)
        self.binarise_share, self.seed = float(binarise_share), seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = False

    def _uniform(self, batch, low: float, high: float):
        return keras.random.uniform((batch,), minval=low, maxval=high, seed=self.seed_generator)

    def _draw(self, shape, low: float, high: float):
        return keras.random.uniform(shape, minval=low, maxval=high, seed=self.seed_generator)

    def _capture(self, images, names: tuple[str, ...]):
        """The capture transforms among ``names`` that have a share, each on its share of digits."""
        from digitkit.zoo.capture_transforms import TRANSFORMS

        for name in names:
            share = self.capture.get(name)
            if share:
                changed = TRANSFORMS[name](images, self._draw)
                draw = ops.reshape(self._uniform(ops.shape(images)[0], 0.0, 1.0), (-1, 1, 1, 1))
                images = ops.where(draw < share, changed, images)
        return images

    def _affine(self, images):
        batch = ops.shape(images)[0]
        size = ops.cast(ops.shape(images)[1], "float32")
        angle = self._uniform(batch, -1.0, 1.0) * (self.max_rotation * math.pi / 180.0)
        scale = self._uniform(batch, *self.scale_range)
        log_aspect = self._uniform(batch, -1.0, 1.0) * math.log(self.max_aspect)
        scale_x, scale_y = scale * ops.exp(log_aspect / 2), scale * ops.exp(-log_aspect / 2)
        shift_x = self._uniform(batch, -self.max_shift, self.max_shift)
        shift_y = self._uniform(batch, -self.max_shift, self.max_shift)
        center = (size - 1.0) / 2.0
        # The transform maps each output pixel (x, y) to the input pixel it samples:
        # inverse of "scale, then rotate, then shift" about the centre.
        cos, sin = ops.cos(angle), ops.sin(angle)
        a0, a1 = cos / scale_x, sin / scale_x
        b0, b1 = -sin / scale_y, cos / scale_y
        a2 = center - a0 * (center + shift_x) - a1 * (center + shift_y)
        b2 = center - b0 * (center + shift_x) - b1 * (center + shift_y)
        zeros = ops.zeros_like(a0)
        transform = ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
        return ops.image.affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                                          fill_value=0.0, data_format="channels_last")

    def _stroke(self, images):
        batch = ops.shape(images)[0]
        draw = ops.reshape(self._uniform(batch, 0.0, 1.0), (-1, 1, 1, 1))
        thick = ops.max_pool(images, 3, strides=1, padding="same")
        thin = -ops.max_pool(-images, 3, strides=1, padding="same")
        out = ops.where(draw < self.thin_share, thin, images)
        return ops.where(draw > 1.0 - self.thick_share, thick, out)

    def _binarise(self, images):
        batch = ops.shape(images)[0]
        draw = ops.reshape(self._uniform(batch, 0.0, 1.0), (-1, 1, 1, 1))
        threshold = ops.reshape(self._uniform(batch, *BINARISE_THRESHOLD), (-1, 1, 1, 1))
        hard = ops.cast(images > threshold, images.dtype)
        return ops.where(draw < self.binarise_share, hard, images)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        out = self._capture(self._affine(inputs), ("slant", "elastic"))  # how the hand moved
        out = self._capture(self._stroke(out), ("box_stretch",))
        out = self._capture(self._binarise(out), ("coarse_grid", "blur", "jpeg", "paper_light"))  # the capture
        return ops.clip(out, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(max_shift=self.max_shift, max_rotation=self.max_rotation, scale_range=list(self.scale_range),
                      max_aspect=self.max_aspect, thin_share=self.thin_share, thick_share=self.thick_share,
                      binarise_share=self.binarise_share, seed=self.seed)
        if self.capture:  # only when used: the shipped recipe's saved config stays as it was
            config["capture"] = dict(self.capture)
        return config
