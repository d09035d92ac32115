"""`digitkit plugins check`: the conformance kit as a pass/fail table for users."""

from __future__ import annotations

import json

import pytest

GOOD = """
from digitkit.spec import InputSpec, ModelSpec, Recipe

def build():
    import keras
    inputs = keras.Input(shape=(784,))
    return keras.Model(inputs, keras.layers.Dense(10)(inputs))

SPEC = ModelSpec(name="tiny-linear", summary="A linear model.", input=InputSpec(28, (784,)),
                 output="logits", params=7850, recipe=Recipe(from_logits=True), builder=build,
                 source="tests")
WRONG = ModelSpec(name="tiny-wrong", summary="Declares the wrong count.", input=InputSpec(28, (784,)),
                  output="logits", params=99, recipe=Recipe(from_logits=True), builder=build, source="tests")
"""


def test_no_plugins_installed_says_how_to_go_on(cli):
    result = cli("plugins", "check")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no plugin models installed" in result.stderr
    assert "digitkit plugins new NAME" in result.stderr and "plugin new" not in result.stderr.replace("plugins new", "")
    assert all(len(line) <= 80 for line in result.stderr.splitlines())


def test_checking_a_builtin_prints_a_passing_table(cli):
    result = cli("plugins", "check", "25-15-10")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("plugin conformance")
    for check in ("metadata", "light-import", "builds", "params", "round-trip", "trains"):
        assert any(check in line and "pass" in line for line in lines), check
    assert "FAIL" not in result.stdout
    assert "1 model(s) conform" in result.stderr


@pytest.mark.slow
def test_plugin_models_are_checked_and_failures_exit_5(cli, fake_plugins, monkeypatch):
    fake_plugins("digitkit-tiny", {"tiny-linear": "tiny_models:SPEC", "tiny-wrong": "tiny_models:WRONG"},
                 {"tiny_models": GOOD})
    monkeypatch.setenv("DIGITKIT_PLUGINS", "digitkit-tiny")  # installed plugins must not leak in
    result = cli("plugins", "check", "--json")
    assert result.exit_code == 5
    report = json.loads(result.stdout)["models"]
    assert sorted(report) == ["tiny-linear", "tiny-wrong"]  # built-ins are not checked by default
    assert all(r["status"] == "pass" for r in report["tiny-linear"])
    params = [r for r in report["tiny-wrong"] if r["check"] == "params"][0]
    assert params["status"] == "fail" and "set params=7850" in params["detail"]
    assert "error: 1 of 2 model(s) fail conformance: tiny-wrong" in result.stderr


@pytest.mark.slow
def test_failures_show_in_the_table(cli, fake_plugins):
    fake_plugins("digitkit-tiny", {"tiny-wrong": "tiny_models:WRONG"}, {"tiny_models": GOOD})
    result = cli("plugins", "check", "tiny-wrong", "--builtins")
    assert result.exit_code == 5
    line = [l for l in result.stdout.splitlines() if "│ params" in l][0]
    assert "FAIL" in line and "spec says params=99" in line


@pytest.mark.slow
def test_broken_entry_points_are_reported_as_failures(cli, fake_plugins, monkeypatch):
    fake_plugins("digitkit-broken", {"boom": "boom_models:SPEC"}, {"boom_models": "raise RuntimeError('kaput')"})
    monkeypatch.setenv("DIGITKIT_PLUGINS", "digitkit-broken")
    result = cli("plugins", "check", "--json")
    assert result.exit_code == 5
    [entry] = json.loads(result.stdout)["models"]["boom"]
    assert entry["status"] == "fail" and "kaput" in entry["detail"]


def test_unknown_model_is_a_usage_error(cli):
    result = cli("plugins", "check", "cnnn")
    assert result.exit_code == 2
    assert "unknown model 'cnnn'" in result.stderr and "did you mean 'cnn'" in result.stderr


@pytest.mark.parametrize("args", [["plugins"], ["plugins", "--json"]])
def test_listing_still_works_without_a_subcommand(cli, args):
    result = cli(*args)
    assert result.exit_code == 0
    assert "digitkit" in result.stdout
