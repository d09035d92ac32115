"""Broken plugins through the CLI: import, spec and build failures, lying specs, name clashes."""

from __future__ import annotations

import json

import pytest

from digitkit.plugins import registry
from digitkit.errors import EXIT_OK, EXIT_PLUGIN, PluginError

SPEC_HEADER = """
from digitkit.spec import InputSpec, ModelSpec, Recipe

def flat_builder(units=10, inputs=784, params_note=None):
    import keras
    x = keras.Input(shape=(inputs,))
    return keras.Model(x, keras.layers.Dense(units)(x))

def make(name, builder=flat_builder, shape=(784,), size=28, params=7850):
    return ModelSpec(name=name, summary="a test plugin model", input=InputSpec(size, shape), output="logits",
                     params=params, recipe=Recipe(), builder=builder)
"""


def _one_error_line(result, *words):
    assert result.exit_code == EXIT_PLUGIN, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.slow
def test_plugin_raising_at_import(cli, fake_plugins, monkeypatch):
    fake_plugins("digitkit-boom", {"boom": "boom_mod:SPEC"}, {"boom_mod": "raise RuntimeError('kaput [/b]')"})
    result = cli("plugins")
    assert result.exit_code == EXIT_OK and "kaput [/b]" in result.stdout and "broken" in result.stdout
    result = cli("list-models")
    assert result.exit_code == EXIT_OK and "cnn" in result.stdout and "broken" in result.stderr
    _one_error_line(cli("show-model", "boom"), "broken plugin", "digitkit-boom", "import failed", "kaput [/b]")
    monkeypatch.setenv("DIGITKIT_STRICT_PLUGINS", "1")
    registry.reset()  # discovery is cached per process
    _one_error_line(cli("list-models"), "digitkit-boom", "'boom'", "import failed")


@pytest.mark.slow
def test_plugin_raising_at_spec_time(cli, fake_plugins):
    fake_plugins("digitkit-factory", {"fact": "fact_mod:spec", "invalid": "invalid_mod:SPEC"}, {
        "fact_mod": "def spec():\n    raise ValueError('no spec today')\n",
        "invalid_mod": SPEC_HEADER + "SPEC = make('invalid', params=-3)\n",
    })
    _one_error_line(cli("show-model", "fact"), "spec factory raised ValueError", "no spec today")
    _one_error_line(cli("show-model", "invalid"), "import failed", "expected params to be a positive int")
    data = json.loads(cli("plugins", "--json").stdout)
    assert sorted(b["name"] for b in data["broken"]) == ["fact", "invalid"]


@pytest.mark.slow
def test_plugin_not_a_spec_or_misnamed(cli, fake_plugins):
    fake_plugins("digitkit-odd", {"odd": "odd_mod:NOT_A_SPEC", "alias": "odd_mod:SPEC"}, {
        "odd_mod": SPEC_HEADER + "NOT_A_SPEC = 42\nSPEC = make('real-name')\n",
    })
    _one_error_line(cli("show-model", "odd"), "expected a digitkit.spec.ModelSpec, got int")
    _one_error_line(cli("show-model", "alias"), "entry point is named 'alias' but its spec says 'real-name'")


@pytest.mark.slow
def test_plugin_raising_at_build_time(cli, fake_plugins):
    fake_plugins("digitkit-crash", {"crash": "crash_mod:SPEC"}, {
        "crash_mod": SPEC_HEADER + "def bad():\n    raise MemoryError('builder exploded')\n"
                                   "SPEC = make('crash', builder=bad)\n",
    })
    assert cli("list-models").exit_code == EXIT_OK  # metadata alone is fine
    _one_error_line(cli("show-model", "crash"), "'crash' failed to build", "MemoryError", "builder exploded")


@pytest.mark.parametrize("source, words", [
    ("SPEC = make('liar', builder=lambda: flat_builder(inputs=400))",
     ["input (None, 400)", "spec says (None, 784)"]),
    ("SPEC = make('liar', builder=lambda: flat_builder(units=5))",
     ["output (None, 5)", "spec says (None, 10)", "3,925 parameters"]),
    ("SPEC = make('liar', params=1000)", ["7,850 parameters but the spec says 1,000"]),
    ("SPEC = make('liar', builder=lambda: 'not a model')", ["did not return a built Keras model"]),
])
@pytest.mark.slow
def test_model_contradicting_its_spec(cli, fake_plugins, source, words):
    fake_plugins("digitkit-liar", {"liar": "liar_mod:SPEC"}, {"liar_mod": SPEC_HEADER + source + "\n"})
    line = _one_error_line(cli("show-model", "liar"), "'liar'", *words)
    assert "fix the plugin" in line or "did not return" in line
    assert _one_error_line(cli("show-model", "liar", "--json"), "'liar'")


@pytest.mark.slow
def test_honest_plugin_shows_fine(cli, fake_plugins):
    fake_plugins("digitkit-honest", {"honest": "honest_mod:SPEC"}, {"honest_mod": SPEC_HEADER + "SPEC = make('honest')\n"})
    result = cli("show-model", "honest")
    assert result.exit_code == EXIT_OK and "7,850" in result.stdout and result.stderr == ""


def test_check_built_model_for_library_callers():
    from digitkit.plugins.building import build_checked, check_built_model

    spec = registry.get_spec("25-15-10")
    model = build_checked(spec)
    check_built_model(spec, model)
    with pytest.raises(PluginError, match="spec says"):
        check_built_model(registry.get_spec("cnn"), model)


@pytest.mark.slow
def test_two_plugins_claiming_one_name(cli, fake_plugins, monkeypatch):
    fake_plugins("digitkit-zeta", {"twin": "zeta_mod:SPEC"}, {"zeta_mod": SPEC_HEADER + "SPEC = make('twin')\n"})
    fake_plugins("digitkit-alpha", {"twin": "alpha_mod:SPEC", "cnn": "alpha_mod:CNN"}, {
        "alpha_mod": SPEC_HEADER + "SPEC = make('twin')\nCNN = make('cnn')\n"})
    result = cli("plugins")
    assert result.exit_code == EXIT_OK
    assert "duplicate twin: digitkit-alpha wins over digitkit-zeta" in " ".join(result.stdout.split())
    assert "duplicate cnn: digitkit wins over digitkit-alpha" in " ".join(result.stdout.split())
    shown = cli("show-model", "twin")
    assert shown.exit_code == EXIT_OK and "digitkit-alpha" in shown.stdout
    assert "34,826" in cli("show-model", "cnn").stdout  # the built-in, not the impostor
    monkeypatch.setenv("DIGITKIT_STRICT_PLUGINS", "1")
    registry.reset()  # discovery is cached per process
    _one_error_line(cli("list-models"), "claimed by several distributions")
