"""tf.data pipelines adapted to each model's declared input."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit import registry
from digitkit.data import load_digits
from digitkit.data.pipeline import dataset_for, make_dataset
from digitkit.spec import InputSpec


@pytest.fixture(scope="module")
def digits():
    full = load_digits("sample", "test")
    return type(full)(full.images[:50], full.labels[:50], full.dataset, full.split, full.source)


@pytest.mark.parametrize("model, x_shape, y_shape", [
    ("cnn", (16, 28, 28, 1), (16, 10)),          # one-hot recipe
    ("dense-sigmoid", (16, 784), None),
    ("25-15-10", (16, 400), None),               # 28 -> 20 resize, flattened
])
def test_dataset_for_adapts_to_the_model(digits, model, x_shape, y_shape):
    spec = registry.get_spec(model)
    x, y = next(iter(dataset_for(digits, spec, training=False, batch_size=16)))
    assert tuple(x.shape) == x_shape and x.dtype.name == "float32"
    assert 0.0 <= float(np.min(x)) and float(np.max(x)) <= 1.0
    expected_y = y_shape or ((16, 10) if spec.recipe.label_encoding == "one-hot" else (16,))
    assert tuple(y.shape) == expected_y


def test_shuffle_is_seeded_and_evaluation_keeps_order(digits):
    spec = InputSpec(28, (784,))

    def labels(**kwargs):
        return np.concatenate([y.numpy() for _, y in make_dataset(digits.images, digits.labels, spec,
                                                                  batch_size=8, **kwargs)])

    assert np.array_equal(labels(), digits.labels)
    assert np.array_equal(labels(shuffle=True, seed=3), labels(shuffle=True, seed=3))
    assert not np.array_equal(labels(shuffle=True, seed=3), digits.labels)


@pytest.mark.parametrize("size", [20, 14, 32])
def test_batch_resize_matches_pillow_bilinear(size):
    from PIL import Image

    from digitkit.data.adapt import _resize

    images = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    expected = np.stack([np.asarray(Image.fromarray(i, mode="F").resize((size, size), Image.Resampling.BILINEAR))
                         for i in images])
    np.testing.assert_allclose(_resize(images, size), expected, atol=1e-5)
