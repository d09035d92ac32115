"""modelfile and loaded: archive shape checks, config walk, digit-model validation, finite checks."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from digitkit.modelfiles import configwalk
from digitkit.modelfiles import keras_file as modelfile
from digitkit.plugins import registry
from digitkit.modelfiles import trust
from digitkit.errors import ModelRefusedError
from digitkit.inference import load
from digitkit.inference.keras_backend import check_finite_weights, input_spec_of, validate_digit_model
from digitkit.inference.outputs import check_outputs
from digitkit.inference.shapes import check_declared


def load_for_inference(ref):
    return load(ref, backend="keras")


def check_finite_outputs(outputs, *, name="the model"):
    return check_outputs(outputs, len(outputs), where=name)
from digitkit.modelfiles.keras_file import check_archive, load_model, save_model
from digitkit.spec import InputSpec
from plugin_fixtures import TRUSTING_SPEC

MODELS = Path(__file__).parent / "fixtures" / "models"
GOOD = MODELS / "ok.keras"


def _members() -> dict[str, bytes]:
    with zipfile.ZipFile(GOOD) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path: Path, files: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def _config() -> dict:
    return json.loads(_members()["config.json"])


def _refused(path_or_call, *words: str) -> str:
    with pytest.raises(ModelRefusedError) as caught:
        path_or_call() if callable(path_or_call) else check_archive(path_or_call)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


# archive shape ---------------------------------------------------------------------------

def test_missing_file_and_plain_folder(tmp_path):
    _refused(tmp_path / "nope.keras", "does not exist")
    _refused(tmp_path, "is a folder, not a .keras model file")


@pytest.mark.parametrize("suffix, words", [
    (".hdf5", ["HDF5"]), (".pkl", ["pickle"]), (".pb", ["SavedModel"]), (".onnx", ["expected a .keras"]),
    (".tflite", ["expected a .keras"]),
])
def test_other_formats_refused_with_reason(tmp_path, suffix, words):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(b"\x00" * 64)
    _refused(path, "model" + suffix, *words)


def test_binary_garbage_and_plain_text(tmp_path):
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(os.urandom(2048).replace(b"PK", b"pk"))
    _refused(garbage, "not a .keras archive (not a zip file)")
    text = tmp_path / "text.keras"
    text.write_text("just some notes\n")
    _refused(text, "it is a text file")


def test_too_many_members(tmp_path):
    files = _members()
    files.update({f"assets/{i}.txt": b"x" for i in range(modelfile.MAX_MEMBERS)})
    _refused(_write(tmp_path / "many.keras", files), "members", f"limit {modelfile.MAX_MEMBERS}")


def test_real_zip_bomb_member_refused_before_decompressing(tmp_path, monkeypatch):
    files = {**_members(), "assets/zeros.bin": bytes(4 << 20)}  # 4 MiB of zeros deflate ~1000:1
    path = _write(tmp_path / "bomb.keras", files, compression=zipfile.ZIP_DEFLATED)
    monkeypatch.setattr(zipfile.ZipFile, "testzip", lambda self: pytest.fail("decompressed a bomb"))
    _refused(path, "'assets/zeros.bin'", "expands", "zip bomb")


def test_total_size_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile, "MAX_UNCOMPRESSED_BYTES", 10_000)
    _refused(GOOD, "would unpack to", "limit")


@pytest.mark.parametrize("member", ["/etc/cron.d/x", "assets/../../x", "C:/x", "a\\..\\b", "..", ""])
def test_member_names_that_escape(member):
    assert modelfile._unsafe_member_name(member)


@pytest.mark.parametrize("member", ["config.json", "assets/vocab.txt", "a..b/c", "model.weights.h5"])
def test_member_names_that_stay(member):
    assert not modelfile._unsafe_member_name(member)


def test_config_size_cap_and_shape(tmp_path, monkeypatch):
    files = _members()
    _refused(_write(tmp_path / "list.keras", {**files, "config.json": b"[1, 2]"}), "does not describe a Keras model")
    _refused(_write(tmp_path / "latin.keras", {**files, "config.json": b"\xff\xfe{}"}), "not valid JSON")
    monkeypatch.setattr(modelfile, "MAX_CONFIG_BYTES", 100)
    _refused(_write(tmp_path / "big.keras", files), "config.json is", "limit")


def test_deeply_nested_config_refused():
    deep: dict = {}
    node = deep
    for _ in range(configwalk.MAX_DEPTH + 5):
        node["config"] = {}
        node = node["config"]
    _refused(lambda: trust.check_config(deep), "nests deeper")


# config walk ---------------------------------------------------------------------------

def test_config_of_every_zoo_model_is_accepted(tmp_path):
    from digitkit.plugins import registry

    for model in registry.list_models():
        keras_model = model.spec.build()
        keras_model.compile(optimizer="adam", loss=model.spec.recipe.loss, metrics=["accuracy"])
        path = save_model(keras_model, tmp_path / f"{model.spec.name}.keras")
        assert check_archive(path) == path


@pytest.mark.parametrize("obj, words", [
    ({"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l"}}, ["Lambda", "'l'"]),
    ({"module": "keras.layers", "class_name": "TFSMLayer", "config": {}}, ["TFSMLayer", "SavedModel"]),
    ({"class_name": "__lambda__", "config": {"code": "AAAA"}}, ["bytecode"]),
    ({"module": "keras_evil.layers", "class_name": "Dense"}, ["'keras_evil.layers'"]),
    ({"module": "os", "class_name": "system"}, ["'os'"]),
    ({"module": "keras.models", "class_name": "function", "config": "load_model",
      "registered_name": "function"}, ["load_model"]),
    ({"module": "keras.layers", "class_name": "Dense", "registered_name": "Custom>Lambda"}, ["Lambda"]),
    ({"module": "keras.layers", "class_name": "Dense", "registered_name": "x y; import os"}, ["malformed"]),
    ({"module": ["keras"], "class_name": "Dense"}, ["not a string"]),
])
def test_config_objects_refused_wherever_they_hide(obj, words):
    config = _config()
    config["config"]["layers"][-1]["config"]["kernel_initializer"] = {"nested": [obj]}
    _refused(lambda: trust.check_config(config, where="m.keras"), "m.keras", "refused", *words)


def test_keras_activation_function_objects_are_fine():
    config = _config()
    config["config"]["layers"][-1]["config"]["activation"] = {
        "module": "keras.activations", "class_name": "function", "config": "relu", "registered_name": "function"}
    trust.check_config(config)




def _plugin_layer_config() -> dict:
    config = _config()
    config["config"]["layers"][-1]["module"] = "myplug_models.layers"
    config["config"]["layers"][-1]["class_name"] = "Gate"
    return config


@pytest.mark.slow
def test_a_plugin_package_is_not_trusted_by_being_an_entry_point(fake_plugins):
    """Trust is earned per class: an entry point alone, even a loaded one, vouches for nothing."""
    fake_plugins("digitkit-myplug", {"myplug": "myplug_models:SPEC"},
                 {"myplug_models": TRUSTING_SPEC.format(name="myplug", classes=())})
    assert registry.is_model("myplug") and "myplug_models.layers.Gate" not in trust.policy().classes
    _refused(lambda: trust.check_config(_plugin_layer_config(), where="m.keras"), "m.keras", "'Gate'",
             "'myplug_models.layers'", "refused")


@pytest.mark.slow
def test_a_loaded_plugin_vouches_only_for_the_classes_it_declares(fake_plugins, monkeypatch):
    fake_plugins("digitkit-myplug", {"myplug": "myplug_models:SPEC"},
                 {"myplug_models": TRUSTING_SPEC.format(name="myplug", classes=("myplug_models.layers.Gate",))})
    assert "myplug_models.layers.Gate" in trust.policy().classes
    trust.check_config(_plugin_layer_config())
    monkeypatch.setenv("DIGITKIT_PLUGINS", "none")
    registry.reset()
    assert "myplug_models.layers.Gate" not in trust.policy().classes
    _refused(lambda: trust.check_config(_plugin_layer_config()), "'myplug_models.layers'",
             "not Keras, digitkit or an installed plugin")


def test_plugin_cannot_make_stdlib_trusted(fake_plugins):
    fake_plugins("digitkit-sneaky", {"sneaky": "os.path:join", "other": "builtins:print"}, {})
    assert {"os", "builtins"}.isdisjoint(root.split(".", 1)[0] for root in trust.policy().classes)
    _refused(lambda: trust.check_config({"module": "os", "class_name": "system"}), "'os'", "refused")


def test_safe_mode_stays_on(monkeypatch):
    import keras

    seen = {}
    real = keras.saving.load_model

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(keras.saving, "load_model", spy)
    load_model(GOOD)
    assert seen["safe_mode"] is True


def test_keras_failure_becomes_one_line(tmp_path, monkeypatch):
    import keras

    def boom(*args, **kwargs):
        raise ValueError("File not found: filepath=x\nPlease ensure the file is an accessible `.keras` zip file.")

    monkeypatch.setattr(keras.saving, "load_model", boom)
    message = _refused(lambda: load_model(GOOD), "ok.keras", "Keras refused to load it")
    assert "\n" not in message


# digit-model validation ----------------------------------------------------------------------

def _model(input_shape, classes=10, inputs=1):
    import keras

    ins = [keras.Input(shape=input_shape) for _ in range(inputs)]
    x = ins[0] if inputs == 1 else keras.layers.Concatenate()(ins)
    x = keras.layers.Flatten()(x) if len(input_shape) > 1 else x
    return keras.Model(ins if inputs > 1 else ins[0], keras.layers.Dense(classes)(x))


@pytest.mark.parametrize("shape, side", [((784,), 28), ((28, 28), 28), ((28, 28, 1), 28), ((400,), 20),
                                         ((8, 8, 1), 8)])
def test_digit_inputs_accepted(shape, side):
    spec = validate_digit_model(_model(shape))
    assert spec == InputSpec(image_size=side, shape=shape)


@pytest.mark.parametrize("shape", [(32, 32, 3), (16, 16, 4), (28, 20), (783,), (4, 4, 1), (100, 100, 1)])
def test_non_digit_inputs_refused(shape):
    _refused(lambda: input_spec_of(_model(shape), where="x.keras"), "x.keras", "not a square grey digit")


def test_wrong_outputs_and_several_inputs_refused():
    _refused(lambda: validate_digit_model(_model((784,), classes=11)), "(None, 11)", "(None, 10)")
    _refused(lambda: validate_digit_model(_model((784,), inputs=2)), "2 inputs")


def test_manifest_that_contradicts_the_model_is_refused():
    _refused(lambda: check_declared(InputSpec(20, (400,)), validate_digit_model(_model((784,))), where="run",
                                    file="model.keras"),
             "manifest says", "(None, 400)", "(None, 784)")


def test_finite_checks():
    model = _model((784,))
    check_finite_weights(model)
    kernel = model.layers[-1].kernel
    kernel.assign(np.where(np.arange(kernel.shape[1]) == 3, np.inf, kernel.numpy()))
    _refused(lambda: check_finite_weights(model, where="m.keras"), "m.keras", "NaN or infinite", "diverged")
    probs = np.full((4, 10), 0.1, dtype="float32")
    assert check_finite_outputs(probs) is not None
    probs[1:3] = np.nan
    _refused(lambda: check_finite_outputs(probs, name="cnn"), "cnn", "2 of 4 digits", "broken")


def test_nan_outputs_never_become_a_zero_prediction():
    """argmax of NaN is 0: the reason callers must check before argmax."""
    outputs = np.full((1, 10), np.nan)
    assert int(np.argmax(outputs, axis=1)[0]) == 0
    with pytest.raises(ModelRefusedError):
        check_finite_outputs(outputs)


def test_run_folder_with_swapped_model_is_refused(home, tmp_path):
    """A run whose manifest promises 400 inputs but whose model.keras takes 28x28x1."""
    from digitkit import runs

    run = runs.create_run("25-15-10", {"spec": {"input": {"image_size": 20, "shape": [400]},
                                               "output": "logits"}})
    run.update_manifest(status="completed")
    run.model_path.write_bytes(GOOD.read_bytes())
    _refused(lambda: load_for_inference(run.id), "model.keras", "manifest says", "(None, 400)")
    _refused(lambda: load_for_inference("25-15-10"), "manifest says")


def test_a_model_of_bare_layers_is_refused_not_an_attribute_error(cli, tmp_path):
    # A Sequential whose layers were never called on an input loads, but has no input shape:
    # predict, evaluate and export each ended in an AttributeError traceback.
    layer = next(layer for layer in _config()["config"]["layers"] if layer["class_name"] == "Dense")
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "bare", "layers": [layer]}}
    path = _write(tmp_path / "bare.keras", {**_members(), "config.json": json.dumps(config).encode()})
    _refused(lambda: load_model(path), "bare.keras", "no defined input")
    result = cli("predict", Path(__file__).parent / "fixtures" / "images" / "grey8.png", "--model", path)
    assert result.exit_code == 4 and "Traceback" not in result.output, result.output
    assert result.stderr.strip().startswith("error: bare.keras holds a model with no defined input")
