"""list-models, show-model, plugins, --version, info through the CLI."""

from __future__ import annotations

import json

import pytest

from digitkit import __version__
from digitkit.errors import EXIT_PLUGIN, EXIT_USAGE


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_list_models_table_and_filter(cli):
    result = cli("list-models")
    assert result.exit_code == 0
    for name in ("dense-sigmoid", "cnn", "25-15-10", "34,826"):
        assert name in result.output
    result = cli("list-models", "dense*")
    assert "cnn" not in result.stdout and "dense-sigmoid" in result.stdout


def test_list_models_json(cli):
    result = cli("list-models", "--json")
    data = json.loads(result.stdout)
    cnn = next(m for m in data if m["name"] == "cnn")
    assert cnn["params"] == 34_826 and cnn["output"] == "probabilities"
    assert cnn["recipe"]["batch_size"] == 128 and cnn["provider"]["distribution"] == "digitkit"


def test_show_model_layers(cli):
    result = cli("show-model", "25-15-10")
    assert result.exit_code == 0, result.output
    assert "hidden_1" in result.stdout and "10,575" in result.stdout and "(None, 25)" in result.stdout


def test_show_model_reads_the_layers_of_a_run_or_the_shipped_weights(cli, make_run):
    shipped = cli("show-model", "cnn")
    assert shipped.exit_code == 0 and "layers (from the shipped weights, cnn@pretrained)" in shipped.stdout
    assert "34,826" in shipped.stdout and "(None, 13, 13, 32)" in shipped.stdout
    run = make_run()  # the latest completed 25-15-10 run wins over the shipped weights
    result = cli("show-model", "25-15-10", "--json")
    assert json.loads(result.stdout)["layers_from"] == str(run.model_path)
    assert f"(from run {run.id})" in cli("show-model", "25-15-10").stdout


@pytest.mark.slow
def test_layers_read_from_files_are_the_built_models_layers():
    from digitkit import pretrained
    from digitkit.modelfiles.layers import saved_layers
    from digitkit.plugins import registry
    from digitkit.plugins.building import describe_layers

    for name in pretrained.names():
        path = pretrained.path(name, "keras")
        if path is not None:
            spec = registry.get_spec(name)
            (saved, saved_total), (built, built_total) = saved_layers(path, spec.num_classes), describe_layers(spec)
            # A saved model may drop training-only layers (cnn-best's augmentation): weightless ones only.
            kept = {row["name"] for row in saved}
            assert [row for row in built if row["name"] in kept] == saved, name
            assert all(row["params"] == 0 for row in built if row["name"] not in kept) and saved_total == built_total


def test_unknown_model_is_one_line_with_suggestion(cli):
    result = cli("show-model", "cnnn")
    assert result.exit_code == EXIT_USAGE
    assert "unknown model 'cnnn'" in result.stderr and "did you mean 'cnn'" in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_plugins_lists_builtin_and_broken(cli, fake_plugins):
    fake_plugins("digitkit-broken", {"boom": "broken_mod:X"}, {"broken_mod": "raise ImportError('nope [/b]')"})
    result = cli("plugins")
    assert result.exit_code == 0
    assert "digitkit" in result.stdout and "boom" in result.stdout and "nope [/b]" in result.stdout
    data = json.loads(cli("plugins", "--json").stdout)
    assert data["broken"][0]["name"] == "boom"
    # list-models still works and says something is broken
    result = cli("list-models")
    assert result.exit_code == 0 and "broken" in result.stderr
    result = cli("show-model", "boom")
    assert result.exit_code == EXIT_PLUGIN


def test_completion_offers_model_names():
    from digitkit.cli.options import complete_model_name

    assert complete_model_name("dense") == ["dense-relu-dropout", "dense-sigmoid"]
