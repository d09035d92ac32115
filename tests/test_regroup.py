"""What the regroup promised: one declaration of options, one MLP family, a versioned plugin
contract, the gate registering declared layers, private Keras calls guarded, and a command
that reads each manifest once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from digitkit.plugins import registry

FUTURE_PLUGIN = """
from digitkit.spec import InputSpec, ModelSpec, Recipe

def build():
    import keras
    inputs = keras.Input(shape=(784,))
    return keras.Model(inputs, keras.layers.Dense(10)(inputs))

SPEC = ModelSpec(name="from-the-future", summary="Written for plugin API 2.", input=InputSpec(28, (784,)),
                 output="logits", params=7850, recipe=Recipe(from_logits=True), builder=build, api_version="2.0")
SAME_MAJOR = ModelSpec(name="newer-minor", summary="Written for plugin API 1.7.", input=InputSpec(28, (784,)),
                       output="logits", params=7850, recipe=Recipe(from_logits=True), builder=build,
                       api_version="1.7")
"""


@pytest.mark.slow
def test_a_spec_of_another_major_plugin_api_is_refused(fake_plugins):
    fake_plugins("digitkit-future", {"from-the-future": "future:SPEC", "newer-minor": "future:SAME_MAJOR"},
                 {"future": FUTURE_PLUGIN})
    reg = registry.get_registry()
    assert "newer-minor" in reg.models
    errors = {b.name: b.error for b in reg.broken}
    from digitkit.plugins import API_VERSION

    assert "plugin API '2.0'" in errors["from-the-future"] and API_VERSION in errors["from-the-future"]


def test_the_zoo_specs_record_the_contract_version():
    from digitkit.plugins import API_VERSION

    assert {m.spec.metadata()["api_version"] for m in registry.list_models()} == {API_VERSION}


@pytest.mark.parametrize("name, entry_point, layers", [
    ("dense-sigmoid", "digitkit.zoo.mlp:DENSE_SIGMOID", ["pixels", "hidden", "probabilities"]),
    ("dense-relu-dropout", "digitkit.zoo.mlp:DENSE_RELU_DROPOUT",
     ["digit", "flatten", "hidden", "dropout", "probabilities"]),
    ("256-256-linear", "digitkit.zoo.mlp:LINEAR_256_256", ["pixels", "hidden_1", "hidden_2", "logits"]),
    ("25-15-10", "digitkit.zoo.mlp:SMALL_25_15_10", ["pixels_20x20", "hidden_1", "hidden_2", "logits"]),
])
def test_the_mlp_family_registers_four_variants_with_their_shipped_layer_names(name, entry_point, layers):
    model = registry.get_model(name)
    assert model.entry_point == entry_point
    built = model.spec.build()
    # The shipped weights were saved from models with exactly these layer names.
    assert [layer.name for layer in built.layers] == layers
    assert built.count_params() == model.spec.params


def test_build_mlp_checks_its_arguments():
    from digitkit.zoo.mlp import build_mlp

    with pytest.raises(ValueError, match="hidden width"):
        build_mlp(input_shape=(784,), hidden=())
    with pytest.raises(ValueError, match="dropout"):
        build_mlp(input_shape=(784,), hidden=(8,), dropout=1.0)


def test_fit_options_are_declared_once_and_the_cli_is_made_from_them(cli):
    from digitkit.training.options import FitOptions

    declared = {d.name: d for d in FitOptions.declared()}
    assert set(declared) == {f for f in FitOptions.__dataclass_fields__} - {"model"}
    help_text = cli("fit", "--help").stdout
    for option in declared.values():
        assert option.flags[0] in help_text


def test_digitkit_fit_refuses_an_unknown_option_naming_the_closest():
    import digitkit

    with pytest.raises(TypeError, match="'epoch'.*did you mean 'epochs'"):
        digitkit.fit("cnn", epoch=3)


def test_the_dataset_is_resolved_once_and_travels_with_the_options(monkeypatch):
    from digitkit.data import resolve
    from digitkit.training.options import FitOptions

    calls = []
    real = resolve.resolve_dataset
    monkeypatch.setattr(resolve, "resolve_dataset", lambda name: calls.append(name) or real(name))
    options = FitOptions(model="dense-sigmoid", dataset="sample").check()
    assert options.check() is options and calls == ["sample"]
    assert options.dataset_ref.kind == "sample"


def test_predict_has_one_option_table_for_typer_and_the_fast_entry(cli):
    import typer.main

    from digitkit.cli.app import app
    from digitkit.cli.entry import FLAGS, VALUE_OPTIONS
    from digitkit.cli.predict_options import OPTIONS

    command = typer.main.get_command(app).commands["predict"]
    typer_flags = {opt for param in command.params for opt in getattr(param, "opts", [])}
    declared = {flag for option in OPTIONS for flag in option.flags}
    assert declared == set(VALUE_OPTIONS) | set(FLAGS) == typer_flags - {"--help", "-h"} - {"PATH", "paths"}


def test_keras_private_refuses_multi_worker_on_an_unchecked_keras(monkeypatch):
    from digitkit.errors import UnavailableError
    from digitkit.training import keras_private

    keras_private.require_checked_keras("multi-worker training")  # the installed Keras is checked
    monkeypatch.setattr(keras_private, "keras_minor", lambda: "3.99")
    with pytest.raises(UnavailableError, match="checked on Keras 3.15 only; this is Keras 3.99"):
        keras_private.require_checked_keras("multi-worker training")


def test_all_layers_falls_back_to_the_public_walk():
    from digitkit.training.keras_private import all_layers

    class Layer:
        def __init__(self, name, layers=()):
            self.name, self.layers = name, list(layers)

    model = Layer("m", [Layer("a"), Layer("inner", [Layer("b")])])
    assert [layer.name for layer in all_layers(model)] == ["a", "inner", "b"]


@pytest.mark.slow
def test_the_gate_registers_a_declared_layer_without_importing_the_zoo(tmp_path):
    """A cnn-best run's model.keras names DigitAugment; the gate finds its module through the spec."""
    import keras

    from digitkit.zoo.digit_augment import DigitAugment

    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(DigitAugment()(inputs))))
    path = tmp_path / "model.keras"
    keras.saving.save_model(model, path)
    code = ("import sys\nfrom digitkit.modelfiles import load_model\n"
            f"model = load_model({str(path)!r})\n"
            "print(type(model.layers[1]).__name__, 'digitkit.zoo.digit_augment' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "DIGITKIT_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-2:] == ["DigitAugment", "True"]


def test_a_keras_file_holding_a_bare_layer_is_refused(tmp_path):
    import keras

    from digitkit.errors import ModelRefusedError
    from digitkit.modelfiles import load_model

    path = tmp_path / "layer.keras"
    keras.saving.save_model(keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)]), path)
    # Rewrite config.json so the archive's top-level object is the bare Dense layer.
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    members["config.json"] = json.dumps(config["config"]["layers"][-1]).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ModelRefusedError) as caught:
        load_model(path)
    assert "\n" not in caught.value.message


def test_one_predict_reads_each_manifest_once(make_run, home, monkeypatch):
    """With N runs in the home, resolving the latest run reads N manifests, not 2N+3."""
    from digitkit.inference import refs
    from digitkit.runs import directory

    made = [make_run(stamp=f"2020010{i}-000000") for i in range(1, 6)]
    directory._MANIFESTS.clear()
    opened = []
    real = directory.files.read_bytes
    monkeypatch.setattr(directory.files, "read_bytes", lambda path, **kw: opened.append(Path(path)) or real(path, **kw))
    ref = refs.resolve("25-15-10")
    assert ref.run.id == made[-1].id and ref.manifest["id"] == made[-1].id
    refs.run_input(ref.run, ref.manifest)
    assert len(opened) <= len(made) + 1 and len(set(opened)) == len(opened)
    # A rewritten manifest is read again.
    made[-1].update_manifest(name="relabelled")
    assert refs.resolve(made[-1].id).manifest["name"] == "relabelled"


def test_shipped_weights_resolve_without_plugin_discovery(tmp_path):
    code = ("import sys\nfrom digitkit.inference import load\n"
            "load('cnn@pretrained')\n"
            "reg = sys.modules.get('digitkit.plugins.registry')\n"
            "print('discovered' if reg and reg._cached_registry.cache_info().currsize else 'none')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DIGITKIT_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-1] == "none"


@pytest.mark.parametrize("content, message", [
    (b"", "missing or empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not a LiteRT model (no TFL3 identifier)"),
    (b"\x1c\0\0\0TFL", "not a LiteRT model"),
])
def test_the_gate_refuses_what_cannot_be_a_tflite_before_the_runtime_sees_it(tmp_path, content, message):
    from digitkit.errors import ModelRefusedError
    from digitkit.modelfiles.tflite_file import check_tflite

    path = tmp_path / "model.tflite"
    path.write_bytes(content)
    with pytest.raises(ModelRefusedError, match=re.escape(message)):
        check_tflite(path)


def test_the_gate_refuses_a_fifo_named_tflite(tmp_path):
    from digitkit.errors import ModelRefusedError
    from digitkit.modelfiles.tflite_file import check_tflite

    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)
    with pytest.raises(ModelRefusedError, match="not a regular file"):
        check_tflite(fifo)  # would block forever if it were opened


def test_shipped_tflite_files_pass_the_gate():
    from digitkit import pretrained
    from digitkit.modelfiles.tflite_file import check_tflite

    for name in pretrained.names():
        check_tflite(pretrained.path(name, "tflite"))


def test_read_has_one_option_table_for_typer_and_the_fast_entry(cli):
    import typer.main

    from digitkit.cli.app import app
    from digitkit.cli.entry import FAST
    from digitkit.cli.read_options import OPTIONS

    command = typer.main.get_command(app).commands["read"]
    typer_flags = {opt for param in command.params for opt in getattr(param, "opts", [])}
    values, flags = FAST["read"][0]
    declared = {flag for option in OPTIONS for flag in option.flags}
    assert declared == set(values) | set(flags) == typer_flags - {"--help", "-h"} - {"PICTURE", "paths"}
