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
    ["a.png", "--tta", "--strict"],
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


PROBE = """
import json, sys
from digitkit.cli.entry import main
try:
    main(["predict", {image!r}, "--model", {model!r}, "--json"])
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "loaded": [m for m in ("typer", "pydantic", "click", "tensorflow", "keras",
                                                         "digitkit.inference.tta") if m in sys.modules]}}),
      file=sys.stderr)
"""


def test_plain_predict_imports_neither_typer_nor_tensorflow(tmp_path_factory):
    import json
    import subprocess
    import sys
    from pathlib import Path

    from predict_fixtures import trained

    run = trained("dense-sigmoid", tmp_path_factory)
    image = str(Path(__file__).parent / "fixtures" / "images" / "grey8.png")
    proc = subprocess.run([sys.executable, "-c", PROBE.format(image=image, model=str(run.path))],
                          capture_output=True, text=True, timeout=120)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["model"]["backend"] == "litert"


def test_errors_on_the_fast_path_are_one_line(tmp_path, capsys):
    import pytest as _pytest

    from digitkit.cli.entry import main

    with _pytest.raises(SystemExit) as exit_info:
        main(["predict", str(tmp_path / "a.png"), "--model", str(tmp_path / "missing.keras")])
    assert exit_info.value.code == 4
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: model file {tmp_path / 'missing.keras'} does not exist (check the path or see `digitkit runs`)"]


LIST_PROBE = """
import sys
from digitkit.cli.entry import main
try:
    main({args!r})
except SystemExit as exit:
    print("EXIT=" + str(exit.code), "TYPER=" + str("typer" in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["list-models"], ["list-models", "--json"], ["list-models", "dense*", "-w"]])
def test_list_models_runs_without_typer_and_prints_what_typer_prints(cli, args):
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "100"}
    proc = subprocess.run([sys.executable, "-c", LIST_PROBE.format(args=args)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert "EXIT=0 TYPER=False" in proc.stderr, proc.stderr[-2000:]  # pydantic-backed Typer never loaded
    assert proc.stdout == cli(*args).stdout


def test_list_models_forms_typer_must_parse_still_go_to_typer():
    from digitkit.cli.list_models_output import parse

    assert parse(["--help"]) is None and parse(["a", "b"]) is None and parse(["--home", "x"]) is None
    assert parse(["cnn*", "-w", "--json"]) == {"pattern": "cnn*", "wide": True, "json_output": True}
