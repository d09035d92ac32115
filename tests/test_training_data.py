"""The tf.data pipelines fit trains and evaluates from, adapted to each model's declared input."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.plugins import registry
from digitkit.data import load_digits
from digitkit.spec import InputSpec
from digitkit.training.data import EpochData, eval_dataset


@pytest.fixture(scope="module")
def digits():
    full = load_digits("sample", "test")
    return type(full)(full.images[:50], full.labels[:50], full.dataset, full.split, full.source)


@pytest.mark.parametrize("model, x_shape, y_shape", [
    ("cnn", (16, 28, 28, 1), (16, 10)),          # one-hot recipe
    ("dense-sigmoid", (16, 784), None),
    ("25-15-10", (16, 400), None),               # 28 -> 20 resize, flattened
])
def test_eval_dataset_adapts_to_the_model(digits, model, x_shape, y_shape):
    spec = registry.get_spec(model)
    x, y = next(iter(eval_dataset(digits, spec.input, batch_size=16, label_encoding=spec.recipe.label_encoding)))
    assert tuple(x.shape) == x_shape and x.dtype.name == "float32"
    assert 0.0 <= float(np.min(x)) and float(np.max(x)) <= 1.0
    expected_y = y_shape or ((16, 10) if spec.recipe.label_encoding == "one-hot" else (16,))
    assert tuple(y.shape) == expected_y


def test_epoch_order_is_seeded_per_epoch_and_evaluation_keeps_order(digits):
    spec = InputSpec(28, (784,))

    def labels(seed, epoch):
        data = EpochData(digits, spec, batch_size=8, label_encoding="integer", seed=seed)
        return np.concatenate([y.numpy() for _, y in data.dataset(epoch)])

    assert np.array_equal(labels(3, 0), labels(3, 0))
    assert not np.array_equal(labels(3, 0), labels(3, 1)) and not np.array_equal(labels(3, 0), labels(4, 0))
    assert sorted(labels(3, 0)) == sorted(digits.labels)
    in_order = np.concatenate([y.numpy() for _, y in eval_dataset(digits, spec, batch_size=8, label_encoding="integer")])
    assert np.array_equal(in_order, digits.labels)


@pytest.mark.parametrize("size", [20, 14, 32])
def test_batch_resize_matches_pillow_bilinear(size):
    from PIL import Image

    from digitkit.data.adapt import _resize

    images = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    expected = np.stack([np.asarray(Image.fromarray(i, mode="F").resize((size, size), Image.Resampling.BILINEAR))
                         for i in images])
    np.testing.assert_allclose(_resize(images, size), expected, atol=1e-5)
