"""The built-in models: exact parameter counts and the recipes of their notebooks (and cnn-best's)."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.plugins import registry

EXPECTED = {
    "dense-sigmoid": (50_890, "categorical_crossentropy", False, 128, 10, (784,)),
    "dense-relu-dropout": (101_770, "sparse_categorical_crossentropy", False, 32, 10, (28, 28)),
    "256-256-linear": (269_322, "sparse_categorical_crossentropy", True, 32, 40, (784,)),
    "25-15-10": (10_575, "sparse_categorical_crossentropy", True, 32, 40, (400,)),
    "cnn": (34_826, "categorical_crossentropy", False, 128, 15, (28, 28, 1)),
    "cnn-best": (171_818, "sparse_categorical_crossentropy", True, 256, 30, (28, 28, 1)),
}
# cnn-best is ours, not a notebook's: a cosine-decayed rate from 3e-3 (see docs/pretrained.md).
LEARNING_RATES = {"cnn-best": 0.003}


def test_zoo_is_discovered_through_entry_points():
    models = registry.list_models()
    assert {m.spec.name for m in models} == set(EXPECTED)
    assert all(m.provider.distribution == "digitkit" for m in models)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_built_model_matches_spec(name):
    params, loss, from_logits, batch, epochs, shape = EXPECTED[name]
    spec = registry.get_spec(name)
    assert spec.params == params
    assert (spec.recipe.loss, spec.recipe.from_logits, spec.recipe.batch_size, spec.recipe.epochs) == (
        loss, from_logits, batch, epochs)
    assert spec.recipe.optimizer == "adam" and spec.recipe.learning_rate == LEARNING_RATES.get(name, 0.001)
    assert spec.input.shape == shape
    model = spec.build()
    assert model.count_params() == params
    assert tuple(model.input_shape[1:]) == shape
    out = np.asarray(model(np.zeros((2, *shape), dtype="float32")))
    assert out.shape == (2, 10)
    if spec.output == "probabilities":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_cnn_recipe_holds_out_a_tenth():
    assert registry.get_spec("cnn").recipe.validation_split == 0.1
    assert registry.get_spec("25-15-10").input.image_size == 20


def test_dense_sigmoid_trains_on_every_digit_as_its_notebook_did():
    assert registry.get_spec("dense-sigmoid").recipe.validation_split == 0.0


def test_cnn_best_augments_only_while_training():
    spec = registry.get_spec("cnn-best")
    assert spec.recipe.schedule == "cosine"
    model = spec.build()
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    augment = model.get_layer("augment")
    np.testing.assert_array_equal(np.asarray(augment(x, training=False)), x)
    changed = np.asarray(augment(x, training=True))
    assert changed.shape == x.shape and not np.allclose(changed, x)
    assert changed.min() >= 0.0 and changed.max() <= 1.0
    # Without the augmentation layer the model has the same weights (the shipped files have none).
    assert spec.build(augment=False).count_params() == spec.params


def test_cnn_best_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Received: filters"):
        registry.get_spec("cnn-best").build(filters=(32, 64))
    with pytest.raises(ValueError, match="Received: dropout"):
        registry.get_spec("cnn-best").build(dropout=1.0)
