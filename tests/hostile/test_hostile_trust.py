"""The model-file allow-list: only Keras, digitkit's layers, and what a conforming plugin declares."""

from __future__ import annotations

import pytest

from digitkit.plugins import registry
from digitkit.modelfiles import trust
from digitkit.errors import ModelRefusedError
from plugin_fixtures import TRUSTING_SPEC

# Classes the built-in zoo declares (cnn-best's training-only augmentation layer).
BUILTIN_CLASSES = frozenset({"digitkit.zoo.digit_augment.DigitAugment"})


def plugin_classes() -> frozenset[str]:
    """The policy's classes beyond the built-in zoo's."""
    return trust.policy().classes - BUILTIN_CLASSES




def _layer(module: str, class_name: str, registered: str | None = None) -> dict:
    return {"module": "keras", "class_name": "Sequential", "config": {"layers": [
        {"module": "keras.layers", "class_name": "Dense", "config": {"units": 10}, "registered_name": None},
        {"module": module, "class_name": class_name, "config": {}, "registered_name": registered}]}}


def _refused(config: dict, *words: str) -> str:
    """The message check_archive shows for ``config`` (a class from a package nothing trusted
    is named by class and module; an undeclared class of a trusted package by its full name)."""
    with pytest.raises(ModelRefusedError) as caught:
        trust.check_config(config, where="m.keras")
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


def test_keras_classes_and_keras_functions_pass():
    config = _layer("keras.layers", "Dropout")
    config["config"]["layers"][0]["config"]["activation"] = {
        "module": "keras.activations", "class_name": "function", "config": "relu", "registered_name": "function"}
    trust.check_config(config)


def test_digitkit_functions_are_never_trusted():
    config = _layer("keras.layers", "Dense")
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": "digitkit.runs", "class_name": "function", "config": "remove_run", "registered_name": "function"}
    _refused(config, "remove_run", "digitkit.runs", "only Keras activations")


def test_a_keras_class_with_a_custom_registered_name_is_refused():
    _refused(_layer("keras.layers", "Dense", registered="evil>Dense"), "evil>Dense")


@pytest.mark.slow
def test_a_conforming_plugin_earns_trust_for_the_classes_it_declares(fake_plugins):
    fake_plugins("digitkit-gated", {"gated": "gated_mod:SPEC"},
                 {"gated_mod": TRUSTING_SPEC.format(name="gated", classes=("gated_mod.Gate",))})
    assert "gated_mod.Gate" in trust.policy().classes
    trust.check_config(_layer("gated_mod", "Gate", registered="gated>Gate"))
    # a class of the same package it did not declare, and a function of its module, stay refused
    _refused(_layer("gated_mod", "Other"), "'gated_mod.Other'", "not a Keras class")
    config = _layer("keras.layers", "Dense")
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": "gated_mod", "class_name": "function", "config": "build", "registered_name": "function"}
    _refused(config, "function 'build'")


def test_a_broken_plugin_contributes_nothing(fake_plugins):
    source = TRUSTING_SPEC.format(name="gated", classes=("gated_mod.Gate",)) + "raise RuntimeError('broken')\n"
    fake_plugins("digitkit-gated", {"gated": "gated_mod:SPEC"}, {"gated_mod": source})
    assert registry.get_registry().broken and not plugin_classes()
    _refused(_layer("gated_mod", "Gate"), "'Gate'", "module 'gated_mod'", "refused")


def test_a_plugin_cannot_vouch_for_other_packages(fake_plugins):
    fake_plugins("digitkit-greedy", {"greedy": "greedy_mod:SPEC"}, {"greedy_mod": TRUSTING_SPEC.format(
        name="greedy", classes=("os.system", "tensorflow.Module", "keras.layers.Lambda", "greedy_mod.Ok"))})
    assert plugin_classes() == frozenset({"greedy_mod.Ok"})
    _refused(_layer("tensorflow", "Module"), "'Module'", "module 'tensorflow'", "refused")


def test_an_entry_point_into_tensorflow_trusts_nothing(fake_plugins):
    fake_plugins("digitkit-tf", {"tfx": "tensorflow:x", "osx": "os.path:join"}, {})
    reg = registry.get_registry()
    assert {b.name for b in reg.broken} == {"tfx", "osx"}
    assert not plugin_classes()
    _refused(_layer("tensorflow.python.ops", "SomeOp"), "'SomeOp'", "module 'tensorflow.python.ops'", "refused")


def test_a_disabled_plugin_contributes_nothing(fake_plugins, monkeypatch):
    fake_plugins("digitkit-gated", {"gated": "gated_mod:SPEC"},
                 {"gated_mod": TRUSTING_SPEC.format(name="gated", classes=("gated_mod.Gate",))})
    monkeypatch.setenv("DIGITKIT_PLUGINS", "none")
    registry.reset()
    assert not plugin_classes()


@pytest.mark.slow
def test_check_archive_applies_the_rule(tmp_path, fake_plugins):
    """A real .keras file naming a plugin layer loads only while the plugin declares it."""
    import keras

    from digitkit.modelfiles.keras_file import check_archive, save_model

    module = '''
import keras

@keras.saving.register_keras_serializable(package="gated")
class Gate(keras.layers.Layer):
    def call(self, x):
        return x
'''
    fake_plugins("digitkit-gated", {"gated": "gated_mod:SPEC"},
                 {"gated_mod": TRUSTING_SPEC.format(name="gated", classes=("gated_mod.Gate",)) + module})
    import gated_mod

    inputs = keras.Input(shape=(4,))
    path = save_model(keras.Model(inputs, gated_mod.Gate()(inputs)), tmp_path / "gated.keras")
    assert check_archive(path) == path
    fake_plugins("digitkit-other", {"other": "other_mod:SPEC"},
                 {"other_mod": TRUSTING_SPEC.format(name="other", classes=())})
    import os

    os.environ["DIGITKIT_PLUGINS"] = "digitkit-other"  # restored by the autouse fixture
    registry.reset()
    with pytest.raises(ModelRefusedError, match="gated_mod"):
        check_archive(path)
