"""The console script's Typer-free `digitkit predict` parses exactly as the Typer command does."""

from __future__ import annotations

import pytest

from digitkit.cli.entry import FLAGS, VALUE_OPTIONS, parse_predict

ARGVS = [
    ["a.png"],
    ["a.png", "b.png", "-"],
    ["a.png", "--model", "cnn", "--top-k", "5", "--json"],
    ["-m", "x.tflite", "-k", "1", "a.png", "--csv", "--no-preprocess"],
    ["a.png", "--min-confidence", "0.5", "--backend", "keras", "--show", "--jsonl"],
    ["a.png", "--model=20261128-093435-cnn-70b5", "--top-k=10"],
]
TYPER_ONLY = [
    [], ["--help"], ["a.png", "--top-k", "11"], ["a.png", "--top-k", "x"], ["a.png", "--min-confidence", "2"],
    ["a.png", "--unknown"], ["a.png", "--model"], ["--", "-a.png"], ["a.png", "-km", "x"],
    ["a.png", "--min-confidence", "nan"],
]


@pytest.fixture
def typer_kwargs(cli, monkeypatch):
    import digitkit.cli.predict_output as output

    def parse(args):
        seen = {}
        monkeypatch.setattr(output, "run", lambda paths, **kwargs: seen.update(paths=list(paths), **kwargs))
        result = cli("predict", *args)
        assert result.exit_code == 0, result.output
        return seen

    return parse


@pytest.mark.parametrize("args", ARGVS)
def test_fast_parser_agrees_with_typer(args, typer_kwargs):
    expected = {k: v for k, v in typer_kwargs(args).items() if v not in (False, None)}
    fast = parse_predict(args)
    defaults = {"model": "cnn", "top_k": 3, "backend": "auto"}
    assert {**defaults, **fast} == {**defaults, **expected}


@pytest.mark.parametrize("args", TYPER_ONLY)
def test_anything_unusual_is_left_to_typer(args):
    assert parse_predict(args) is None


def test_fast_parser_knows_only_options_of_the_typer_command():
    import typer.main

    from digitkit.cli.app import app

    command = typer.main.get_command(app).commands["predict"]
    names = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert set(VALUE_OPTIONS) | set(FLAGS) <= names
