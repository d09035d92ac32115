"""``tf.data`` pipelines for training and evaluation.

Autotune is off and prefetch is fixed on purpose: with autotune on, each time Keras drops
an iterator (every epoch, every validation pass) the main thread waited 3-4.6 s for
tf.data's autotune thread on a 2-core machine.
"""

from __future__ import annotations

import numpy as np

from digitkit.data.adapt import adapt_images, encode_labels
from digitkit.spec import InputSpec

PREFETCH_BATCHES = 2


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    input_spec: InputSpec,
    *,
    batch_size: int,
    label_encoding: str = "integer",
    num_classes: int = 10,
    shuffle: bool = False,
    seed: int | None = None,
):
    """A batched ``tf.data.Dataset`` of (adapted images, encoded labels).

    Args:
        images: N x 28 x 28 digits (uint8 or float in [0, 1]).
        labels: N integer labels.
        input_spec: the model's declared input.
        batch_size: samples per batch.
        label_encoding: ``"integer"`` or ``"one-hot"``.
        num_classes: for one-hot encoding.
        shuffle: reshuffle every epoch (seeded, so runs repeat bit for bit).
        seed: shuffle seed.
    """
    import tensorflow as tf

    x = adapt_images(images, input_spec)
    y = encode_labels(labels, label_encoding, num_classes)
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).prefetch(PREFETCH_BATCHES)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    return dataset.with_options(options)


def dataset_for(digits, spec, *, training: bool, seed: int | None = None, batch_size: int | None = None,
                recipe=None):
    """The pipeline of a :class:`~digitkit.data.Digits` split for a model, as its recipe says.

    Args:
        digits: a loaded split (see :func:`digitkit.data.load_digits`).
        spec: the model's :class:`~digitkit.spec.ModelSpec` (input shape, recipe).
        training: shuffle (seeded) for training; keep the order for evaluation.
        seed: shuffle seed.
        batch_size: overrides the recipe's batch size.
        recipe: overrides ``spec.recipe`` (e.g. ``spec.recipe.replace(...)``).
    """
    recipe = recipe or spec.recipe
    return make_dataset(
        digits.images, digits.labels, spec.input,
        batch_size=batch_size or recipe.batch_size,
        label_encoding=recipe.label_encoding,
        shuffle=training, seed=seed,
    )
