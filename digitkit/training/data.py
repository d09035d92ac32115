"""Training data as a seeded, resumable ``tf.data`` pipeline.

Epoch ``e`` visits the training digits in an order drawn from ``(seed, e)`` alone, so a run
resumed at epoch ``e`` sees exactly the batches an uninterrupted run would have seen (a
``Dataset.shuffle`` with ``reshuffle_each_iteration`` depends on how many epochs the
iterator has already produced, which a fresh process cannot replay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from digitkit.data import Digits, load_digits
from digitkit.errors import UsageError
from digitkit.data.adapt import adapt_images, encode_labels
from digitkit.spec import InputSpec

PREFETCH_BATCHES = 2


@dataclass
class SplitData:
    """Training and validation digits after the seeded hold-out split."""

    train: Digits
    validation: Digits | None


@dataclass
class FitData:
    """The three splits a fit uses, and what the manifest records about them."""

    train: Digits
    validation: Digits | None
    test: Digits
    fingerprint: str
    notes: list[str] = field(default_factory=list)

    def manifest_fields(self, config: Any) -> dict[str, Any]:
        from digitkit.data import SAMPLE_NAME

        # A fit that fell back to the bundled sample trained on the sample: say so, not "mnist".
        fell_back = self.train.source.startswith("bundled")
        return {"name": SAMPLE_NAME if fell_back else config.dataset or self.train.dataset,
                "source": self.train.source,
                "fingerprint": self.fingerprint, "train_size": len(self.train),
                "validation_size": len(self.validation) if self.validation else 0, "test_size": len(self.test),
                "requested": config.dataset, "train_limit": config.train_size, "test_limit": config.test_size}


def load_split_data(config: Any, status: Callable[[str], None] | None = None) -> FitData:
    """Load, limit and split the data of a fit; check that its labels fit the model.

    Raises:
        UsageError: labels the model cannot output (e.g. a plugin declaring 5 classes).
    """
    dataset = config.dataset_ref or config.dataset
    train = limit(load_digits(dataset, "train", status=status), config.train_size)
    test = limit(load_digits(dataset, "test", status=status), config.test_size)
    classes = config.spec.num_classes
    for digits in (train, test):
        top = int(digits.labels.max()) if len(digits) else -1
        if top >= classes:
            raise UsageError(f"model {config.spec.name!r} declares {classes} classes, but the {digits.split} digits "
                             f"have labels up to {top}", hint="its spec's num_classes must cover digits 0-9")
    split = split_validation(train, config.recipe.validation_split, config.seed)
    notes = list(train.notes)
    if config.recipe.writing_styles:  # the training part only: validation stays the data as given
        split = SplitData(restyled(split.train, config.recipe.writing_styles, config.seed, status), split.validation)
    finetune = getattr(config, "finetune", None)
    if finetune is not None and finetune.replay:  # held-out digits stay the user's own
        from digitkit.training import replay

        mixed, note = replay.mix(split.train, finetune.replay, finetune.replay_data, config.seed, status)
        split, notes = SplitData(mixed, split.validation), notes + [note]
    return FitData(split.train, split.validation, test, train.fingerprint(), notes)


def restyled(digits: Digits, share: float, seed: int, status: Callable[[str], None] | None = None) -> Digits:
    """``digits`` with ``share`` of its 7s and 1s redrawn in styles MNIST's writers seldom used
    (``Recipe.writing_styles``); pictures that are not 28x28 uint8 digits are left as they are."""
    if digits.images.dtype != np.uint8 or digits.images.shape[1:3] != (28, 28) or not len(digits):
        return digits
    from digitkit.zoo.writing_styles import restyle

    if status is not None:
        status("redrawing a share of the training 7s and 1s (the recipe's writing styles)")
    images, _ = restyle(digits.images, digits.labels, share, seed)
    return Digits(images, digits.labels, digits.dataset, digits.split, digits.source, digits.notes)


def limit(digits: Digits, size: int | None) -> Digits:
    """The first ``size`` digits (all of them for ``None``)."""
    if size is None or size >= len(digits):
        return digits
    return Digits(digits.images[:size], digits.labels[:size], digits.dataset, digits.split, digits.source,
                  digits.notes)


def split_validation(digits: Digits, fraction: float, seed: int) -> SplitData:
    """Hold out a seeded random ``fraction`` of the digits for validation."""
    count = int(round(len(digits) * fraction))
    if fraction <= 0 or count == 0:
        return SplitData(digits, None)
    order = np.random.default_rng(seed).permutation(len(digits))
    train_idx, val_idx = np.sort(order[count:]), np.sort(order[:count])

    def take(idx: np.ndarray, split: str) -> Digits:
        return Digits(digits.images[idx], digits.labels[idx], digits.dataset, split, digits.source, digits.notes)

    return SplitData(take(train_idx, "train"), take(val_idx, "validation"))


def _options() -> Any:
    import tensorflow as tf

    # Autotune off: with it on, every iterator Keras drops cost 3-4.6 s on a 2-core machine.
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    return options


class EpochData:
    """Builds the dataset of one epoch from tensors made once.

    Args:
        digits: training digits.
        input_spec: the model's input.
        batch_size: global batch size.
        label_encoding: ``"integer"`` or ``"one-hot"``.
        seed: run seed; the order of epoch ``e`` depends on ``(seed, e)`` only.
        augment: random shifts, rotations, scale and stroke width (see digitkit.training.augment).
        num_classes: classes for one-hot labels.
        whole_batches: drop the last partial batch of each epoch (data-parallel training:
            TensorFlow 2.21 fails on a last batch that splits unevenly across replicas).
    """

    def __init__(self, digits: Digits, input_spec: InputSpec, *, batch_size: int, label_encoding: str,
                 seed: int, augment: bool = False, num_classes: int = 10, whole_batches: bool = False) -> None:
        import tensorflow as tf

        self.size = len(digits)
        self.batch_size = batch_size
        self.seed = seed
        self.augment = augment
        self.input_spec = input_spec
        self.whole_batches = whole_batches
        if augment:  # augmentation works on 28x28 digits; adaptation follows it in the pipeline
            self._x = tf.constant(digits.images.astype(np.float32)[..., None] / 255.0)
        else:
            self._x = tf.constant(adapt_images(digits.images, input_spec))
        self._y = tf.constant(encode_labels(digits.labels, label_encoding, num_classes))
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="digitkit_epoch")
        self._dataset: Any = None

    @property
    def steps_per_epoch(self) -> int:
        if self.whole_batches:
            return max(self.size // self.batch_size, 1)
        return -(-self.size // self.batch_size)

    def dataset(self, epoch: int) -> Any:
        """The batches of 0-based ``epoch``.

        One pipeline serves every epoch: its order is drawn inside tf.data from ``(seed, epoch)``
        with the epoch read from a variable when Keras opens the iterator. Building a new
        pipeline per epoch re-traced its functions: 0.1-0.3 s per epoch, as long as a whole
        epoch of a small dense model.
        """
        if self._dataset is None:
            self._dataset = self._build()
        self._epoch.assign(epoch)
        return self._dataset

    def _build(self) -> Any:
        import tensorflow as tf

        x, y, size, epoch_var = self._x, self._y, self.size, self._epoch
        seed = tf.constant(self.seed, tf.int64)

        def epoch_order(_: Any) -> Any:
            epoch = epoch_var.read_value()
            order = tf.random.experimental.stateless_shuffle(tf.range(size, dtype=tf.int64),
                                                             seed=tf.stack([seed, epoch]))
            return tf.data.Dataset.from_tensor_slices(order)

        indices = tf.data.Dataset.from_tensors(0).flat_map(epoch_order).batch(
            self.batch_size, drop_remainder=self.whole_batches and self.size >= self.batch_size)
        if self.augment:
            from digitkit.training.augment import augment_batch

            spec, run_seed = self.input_spec, self.seed
            batches = indices.enumerate().map(
                lambda step, idx: (augment_batch(tf.gather(x, idx), spec,
                                                 seed=(run_seed, epoch_var.read_value(), step)),
                                   tf.gather(y, idx)))
        else:
            batches = indices.map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx)))
        # flat_map hides the length; Keras needs it to end epochs without a warning.
        batches = batches.apply(tf.data.experimental.assert_cardinality(self.steps_per_epoch))
        return batches.prefetch(PREFETCH_BATCHES).with_options(_options())


def eval_dataset(digits: Digits, input_spec: InputSpec, *, batch_size: int, label_encoding: str,
                 num_classes: int = 10, replicas: int = 1) -> Any:
    """Validation/test batches in file order, built once and reused every epoch.

    With several replicas the digits are padded to a multiple of ``replicas`` with
    zero-weight copies: TensorFlow 2.21 fails on a last batch that splits unevenly, and
    the zero weights keep accuracy exact.
    """
    import tensorflow as tf

    x = adapt_images(digits.images, input_spec)
    y = encode_labels(digits.labels, label_encoding, num_classes)
    pad = -len(x) % replicas
    if replicas > 1 and pad:
        weights = np.concatenate([np.ones(len(x), np.float32), np.zeros(pad, np.float32)])
        x, y = np.concatenate([x, x[:pad]]), np.concatenate([y, y[:pad]])
        slices = tf.data.Dataset.from_tensor_slices((x, y, weights))
    else:
        slices = tf.data.Dataset.from_tensor_slices((x, y))
    dataset = slices.batch(batch_size).cache()
    return dataset.prefetch(PREFETCH_BATCHES).with_options(_options())
