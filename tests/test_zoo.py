"""The five built-in models: exact parameter counts and the recipes of their notebooks."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit import registry

EXPECTED = {
    "dense-sigmoid": (50_890, "categorical_crossentropy", False, 128, 10, (784,)),
    "dense-relu-dropout": (101_770, "sparse_categorical_crossentropy", False, 32, 10, (28, 28)),
    "256-256-linear": (269_322, "sparse_categorical_crossentropy", True, 32, 40, (784,)),
    "25-15-10": (10_575, "sparse_categorical_crossentropy", True, 32, 40, (400,)),
    "cnn": (34_826, "categorical_crossentropy", False, 128, 15, (28, 28, 1)),
}


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
    assert spec.recipe.optimizer == "adam" and spec.recipe.learning_rate == 0.001
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
