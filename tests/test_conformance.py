"""The conformance kit: the built-in zoo passes it; deliberately broken plugins fail it, usefully."""

from __future__ import annotations

import dataclasses

import pytest

from digitkit.plugins import registry
from digitkit.spec import InputSpec, ModelSpec, Recipe
from digitkit.plugins.testing import (
    CHECK_NAMES, CheckResult, assert_conforms, check_model, check_spec, conformance_params,
)
from digitkit.zoo.cnn import SPEC as CNN

ZOO = ["dense-sigmoid", "dense-relu-dropout", "256-256-linear", "25-15-10", "cnn"]
# The model-level checks; the light-import check runs in a subprocess and is tested apart.
MODEL_CHECKS = [c for c in CHECK_NAMES if c != "light-import"]


@pytest.mark.parametrize("name", conformance_params(ZOO))
@pytest.mark.slow
def test_every_zoo_model_conforms(name):
    results = assert_conforms(name)
    assert [r.check for r in results] == list(CHECK_NAMES)
    assert all(r.status == "pass" for r in results), results


def test_conformance_params_gives_readable_ids():
    params = conformance_params([CNN, "dense-sigmoid"])
    assert [p.id for p in params] == ["cnn", "dense-sigmoid"]
    assert params[0].values == (CNN,)


# ---- deliberately broken specs -------------------------------------------------------------

def _dense_model(units=10, activation=None, kernel_initializer="glorot_uniform", trainable=True):
    import keras

    inputs = keras.Input(shape=(784,), name="digit")
    layer = keras.layers.Dense(units, activation=activation, kernel_initializer=kernel_initializer,
                               name="out")
    layer.trainable = trainable
    return keras.Model(inputs, layer(inputs))


def _spec(builder, output="logits", params=7_850, **recipe):
    recipe.setdefault("from_logits", output == "logits")
    return ModelSpec(name="broken", summary="A deliberately broken model.", input=InputSpec(28, (784,)),
                     output=output, params=params, recipe=Recipe(**recipe), builder=builder,
                     source="tests/test_conformance.py")


def _by_check(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.check: r for r in results}


def test_a_correct_linear_spec_passes():
    results = check_spec(_spec(_dense_model), checks=MODEL_CHECKS)
    assert [r.status for r in results] == ["pass"] * len(MODEL_CHECKS)


def test_wrong_params_fail_and_say_the_right_count():
    results = _by_check(check_spec(_spec(_dense_model, params=1_000), checks=MODEL_CHECKS))
    assert results["params"].failed
    assert results["params"].detail == "spec says params=1,000, the built model has 7,850: set params=7850"
    assert results["builds"].passed and results["round-trip"].passed


def test_wrong_output_shape_fails():
    results = _by_check(check_spec(_spec(lambda: _dense_model(units=5), params=3_925), checks=MODEL_CHECKS))
    assert results["output-shape"].failed
    assert "expected output shape (10,) for num_classes=10, the model gives (5,)" in results["output-shape"].detail


def test_nan_outputs_fail_the_finite_check():
    def nan_model():
        import keras

        return _dense_model(kernel_initializer=keras.initializers.Constant(float("nan")))

    results = _by_check(check_spec(_spec(nan_model), checks=MODEL_CHECKS))
    assert results["finite"].failed
    assert "NaN or infinite outputs for 16 of 16 digits" in results["finite"].detail
    # What needs finite outputs is skipped, with the reason.
    assert results["output-kind"].status == "skip" and "'finite'" in results["output-kind"].detail
    assert results["trains"].failed and "NaN" in results["trains"].detail


def test_logits_declared_as_probabilities_fail():
    results = _by_check(check_spec(_spec(_dense_model, output="probabilities"), checks=MODEL_CHECKS))
    detail = results["output-kind"].detail
    assert results["output-kind"].failed
    assert detail.startswith("declared probabilities, but outputs range over")
    assert "end with a softmax, or declare output='logits'" in detail


def test_probabilities_declared_as_logits_fail():
    spec = _spec(lambda: _dense_model(activation="softmax"), output="logits")
    results = _by_check(check_spec(spec, checks=["output-kind"]))
    assert results["output-kind"].failed
    assert "remove the final softmax, or declare output='probabilities'" in results["output-kind"].detail


def test_a_raising_builder_fails_builds_and_skips_the_rest():
    def exploding():
        raise RuntimeError("no such layer: Conv5D")

    results = check_spec(_spec(exploding), checks=MODEL_CHECKS)
    by_check = _by_check(results)
    assert by_check["metadata"].passed
    assert by_check["builds"].detail == "builder raised RuntimeError: no such layer: Conv5D"
    assert {r.status for r in results if r.check not in ("metadata", "builds")} == {"skip"}


def test_recipe_that_contradicts_the_output_fails_metadata():
    spec = _spec(_dense_model, output="logits", from_logits=False)
    [result] = check_spec(spec, checks=["metadata"])
    assert result.failed
    assert "output='logits' but recipe.from_logits=False: set from_logits=True" in result.detail


def test_missing_source_and_multi_line_summary_fail_metadata():
    spec = dataclasses.replace(_spec(_dense_model), source="", summary="two\nlines")
    [result] = check_spec(spec, checks=["metadata"])
    assert "summary must be one line" in result.detail and "source is empty" in result.detail


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
def test_a_model_that_cannot_learn_fails_trains():
    results = _by_check(check_spec(_spec(lambda: _dense_model(trainable=False)), checks=["trains"]))
    assert results["trains"].failed
    assert "12 steps with the recipe did not lower the loss" in results["trains"].detail


def test_an_unregistered_custom_layer_fails_the_safe_round_trip():
    def custom():
        import keras

        class Doubler(keras.layers.Layer):  # not registered: safe mode cannot load it
            def call(self, x):
                return x * 2.0

        inputs = keras.Input(shape=(784,))
        return keras.Model(inputs, keras.layers.Dense(10)(Doubler()(inputs)))

    results = _by_check(check_spec(_spec(custom), checks=["round-trip"]))
    assert results["round-trip"].failed
    assert "loading in safe mode failed" in results["round-trip"].detail
    assert "register_keras_serializable" in results["round-trip"].detail


def test_assert_conforms_lists_every_failure():
    with pytest.raises(AssertionError) as info:
        assert_conforms(_spec(_dense_model, output="probabilities", params=3), checks=MODEL_CHECKS)
    message = str(info.value)
    assert message.startswith("model 'broken' fails 2 conformance check(s):")
    assert "  params: spec says params=3" in message and "  output-kind: declared probabilities" in message


def test_unknown_check_names_are_refused():
    with pytest.raises(ValueError, match="expected checks among"):
        check_spec(CNN, checks=["speed"])


# ---- the light-import check, through real entry points -------------------------------------

HEAVY_PLUGIN = """
import keras  # at module level: every `digitkit list-models` would pay for TensorFlow
from digitkit.spec import InputSpec, ModelSpec, Recipe

def build():
    inputs = keras.Input(shape=(784,))
    return keras.Model(inputs, keras.layers.Dense(10)(inputs))

SPEC = ModelSpec(name="heavy", summary="Imports Keras too early.", input=InputSpec(28, (784,)),
                 output="logits", params=7850, recipe=Recipe(from_logits=True), builder=build,
                 source="tests")
"""
LIGHT_PLUGIN = HEAVY_PLUGIN.replace("import keras  #", "#").replace("    inputs =", "    import keras\n    inputs =")


@pytest.mark.slow  # the subprocess imports TensorFlow: 5-20 s
def test_a_module_that_imports_keras_fails_light_import(fake_plugins):
    fake_plugins("digitkit-heavy", {"heavy": "heavy_models:SPEC"}, {"heavy_models": HEAVY_PLUGIN})
    [result] = check_model("heavy", checks=["light-import"])
    assert result.failed
    assert result.detail.startswith("importing heavy_models imports tensorflow, keras")
    assert "move `import keras`" in result.detail


@pytest.mark.slow
def test_a_light_module_passes_light_import(fake_plugins):
    fake_plugins("digitkit-light", {"heavy": "light_models:SPEC"}, {"light_models": LIGHT_PLUGIN})
    [result] = check_model("heavy", checks=["light-import"])
    assert result.passed, result.detail
    assert result.detail == "import light_models: no TensorFlow/Keras"


@pytest.mark.slow
def test_a_broken_entry_point_is_one_failed_result(fake_plugins):
    fake_plugins("digitkit-broken", {"boom": "boom_models:SPEC"}, {"boom_models": "raise ImportError('gone')"})
    [result] = check_model("boom")
    assert (result.check, result.status) == ("metadata", "fail")
    assert "boom_models:SPEC" in result.detail and "gone" in result.detail


def test_unknown_model_raises_with_suggestions():
    from digitkit.errors import UnknownModelError

    with pytest.raises(UnknownModelError, match="unknown model 'cnnn'"):
        check_model("cnnn")
    assert registry.is_model("cnn")
