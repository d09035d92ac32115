"""Discovery through real entry-point metadata: third-party, broken, duplicate plugins."""

from __future__ import annotations

import pytest

from digitkit.plugins import registry
from digitkit.errors import PluginError, UnknownModelError

GOOD = """
from digitkit.spec import InputSpec, ModelSpec, Recipe

def build():
    import keras
    inputs = keras.Input(shape=(784,))
    return keras.Model(inputs, keras.layers.Dense(10)(inputs))

SPEC = ModelSpec(name="tiny-linear", summary="A linear model.", input=InputSpec(28, (784,)),
                 output="logits", params=7850, recipe=Recipe(from_logits=True), builder=build)
CLASH = ModelSpec(name="cnn", summary="Another cnn.", input=InputSpec(28, (784,)),
                  output="logits", params=7850, recipe=Recipe(), builder=build)
def factory():
    return ModelSpec(name="made-later", summary="From a factory.", input=InputSpec(28, (784,)),
                     output="logits", params=7850, recipe=Recipe(), builder=build)
"""
BROKEN = """
raise RuntimeError("this plugin is broken on purpose")
"""
BAD_SPEC = """
NOT_A_SPEC = 42
def raising():
    raise ValueError("spec time failure")
"""


@pytest.mark.slow
def test_third_party_plugin_is_discovered(fake_plugins):
    fake_plugins("digitkit-tiny", {"tiny-linear": "tiny_models:SPEC", "made-later": "tiny_models:factory"},
                 {"tiny_models": GOOD})
    names = [m.spec.name for m in registry.list_models()]
    assert "tiny-linear" in names and "made-later" in names and "cnn" in names
    model = registry.get_model("tiny-linear")
    assert (model.provider.distribution, model.provider.version) == ("digitkit-tiny", "1.0")


@pytest.mark.slow
def test_broken_plugins_are_listed_and_skipped(fake_plugins):
    fake_plugins("digitkit-broken", {"boom": "broken_models:X", "not-spec": "bad_spec:NOT_A_SPEC",
                                     "raising": "bad_spec:raising"},
                 {"broken_models": BROKEN, "bad_spec": BAD_SPEC})
    reg = registry.get_registry()
    errors = {b.name: b.error for b in reg.broken}
    assert "broken on purpose" in errors["boom"]
    assert "expected a digitkit.spec.ModelSpec" in errors["not-spec"]
    assert "spec time failure" in errors["raising"]
    assert registry.is_model("cnn")  # the rest still works
    with pytest.raises(PluginError, match="broken plugin"):
        registry.get_model("boom")


@pytest.mark.slow
def test_strict_mode_turns_plugin_problems_into_errors(fake_plugins, monkeypatch):
    fake_plugins("digitkit-broken", {"boom": "broken_models:X"}, {"broken_models": BROKEN})
    monkeypatch.setenv("DIGITKIT_STRICT_PLUGINS", "1")
    registry.reset()
    with pytest.raises(PluginError, match="broken on purpose"):
        registry.get_registry()


@pytest.mark.slow
def test_duplicate_name_reports_the_winner(fake_plugins):
    fake_plugins("digitkit-clash", {"cnn": "tiny_models:CLASH"}, {"tiny_models": GOOD})
    reg = registry.get_registry()
    assert reg.models["cnn"].provider.distribution == "digitkit"
    (dup,) = reg.duplicates
    assert dup.name == "cnn" and dup.losers[0].distribution == "digitkit-clash"
    assert "built-in" in dup.reason


@pytest.mark.slow
def test_plugins_env_selects_distributions(fake_plugins, monkeypatch):
    fake_plugins("digitkit-tiny", {"tiny-linear": "tiny_models:SPEC"}, {"tiny_models": GOOD})
    monkeypatch.setenv("DIGITKIT_PLUGINS", "none")
    registry.reset()
    assert not registry.is_model("tiny-linear") and registry.is_model("cnn")
    monkeypatch.setenv("DIGITKIT_PLUGINS", "digitkit_tiny")
    registry.reset()
    assert registry.is_model("tiny-linear")


def test_natural_sort_and_wildcards():
    assert registry.natural_key("m-2") < registry.natural_key("m-10")
    assert [m.spec.name for m in registry.list_models("dense*")] == ["dense-relu-dropout", "dense-sigmoid"]
    assert [m.spec.name for m in registry.list_models("linear")] == ["256-256-linear"]
    assert [m.spec.name for m in registry.list_models()][:2] == ["25-15-10", "256-256-linear"]


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownModelError) as info:
        registry.get_model("dense-sigmod")
    assert "dense-sigmoid" in str(info.value)
