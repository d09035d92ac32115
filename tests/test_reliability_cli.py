"""The CLI edge: Ctrl-C, --debug, rich markup and non-UTF-8 bytes in user text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from digitkit import errors
from digitkit.cli.app import DigitkitGroup
from digitkit.errors import (EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_MODEL_REFUSED, EXIT_OK,
                             EXIT_PARTIAL, EXIT_PLUGIN, EXIT_UNAVAILABLE, EXIT_USAGE, printable)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def _interrupted(result) -> None:
    assert result.exit_code == EXIT_INTERRUPTED, result.output
    assert result.stderr.strip().splitlines() == ["interrupted"]
    assert "Traceback" not in result.output and "Aborted" not in result.output


@pytest.mark.parametrize("command", [["fit", "cnn"], ["evaluate", "cnn"], ["predict", "cnn", "x.png"],
                                     ["report", "cnn"], ["show-model", "cnn"], ["list-models"], ["plugins"],
                                     ["info"]])
def test_ctrl_c_in_any_command_is_exit_130_and_one_line(cli, monkeypatch, command):
    # The root callback runs inside every command's invocation; Ctrl-C there stands for Ctrl-C anywhere.
    monkeypatch.setattr("digitkit.home.set_home", _interrupt)
    _interrupted(cli(*command))


def test_ctrl_c_inside_a_command_body(cli, monkeypatch):
    monkeypatch.setattr("digitkit.plugins.registry.get_model", _interrupt)
    _interrupted(cli("show-model", "cnn"))
    monkeypatch.setattr("digitkit.plugins.registry.list_models", _interrupt)
    _interrupted(cli("list-models"))


def test_ctrl_c_in_a_real_process_exits_130():
    code = ("import os, signal, digitkit.plugins.registry as r\n"
            "def slow(*a, **k):\n    os.kill(os.getpid(), signal.SIGINT)\n"
            "r.list_models = slow\n"
            "from digitkit.cli.app import main\nmain()\n")
    env = {**os.environ, "DIGITKIT_PLUGINS": "none"}
    proc = subprocess.run([sys.executable, "-c", code, "list-models"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED
    assert proc.stderr.strip().splitlines()[-1] == "interrupted" and "Traceback" not in proc.stderr


def test_debug_shows_the_traceback(cli, monkeypatch):
    monkeypatch.setenv("DIGITKIT_DEBUG", "")  # --debug sets it; monkeypatch restores it afterwards
    plain = cli("show-model", "cnnn")
    assert plain.exit_code == EXIT_USAGE and "Traceback" not in plain.stderr
    debug = cli("--debug", "show-model", "cnnn")
    assert debug.exit_code == EXIT_USAGE
    assert "Traceback (most recent call last)" in debug.stderr and "UnknownModelError" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("error: unknown model 'cnnn'")


def _loader_app():
    """A one-command app on the real error edge, loading the model file a user names."""
    from digitkit.inference import load as load_for_inference

    app = typer.Typer(cls=DigitkitGroup)

    @app.command()
    def load(ref: str) -> None:
        load_for_inference(ref)

    @app.command()
    def other() -> None:  # two commands keep Typer from flattening the group
        pass

    return app


@pytest.mark.parametrize("name", ["[/b].keras", "[bold red]x[/].keras", "[link=file:///etc]x.keras", "a\\[b].keras"])
def test_rich_markup_in_a_model_path(tmp_path, name):
    path = tmp_path / name
    result = CliRunner().invoke(_loader_app(), ["load", str(path)])
    assert result.exit_code == EXIT_MODEL_REFUSED, result.output
    assert "does not exist" in result.stderr and str(path) in result.stderr
    path.parent.mkdir(parents=True, exist_ok=True)  # "[/b].keras" is a folder "[" and a file "b].keras"
    path.write_bytes(b"not a zip at all \x00")
    result = CliRunner().invoke(_loader_app(), ["load", str(path)])
    assert result.exit_code == EXIT_MODEL_REFUSED and "not a .keras archive" in result.stderr
    assert str(path) in result.stderr


def test_rich_markup_in_a_model_name(cli):
    result = cli("show-model", "[/b]")
    assert result.exit_code == EXIT_USAGE and "unknown model '[/b]'" in result.stderr


def test_non_utf8_file_name(tmp_path):
    raw = os.fsencode(str(tmp_path)) + b"/\xff\xfe[/b].keras"
    name = os.fsdecode(raw)
    result = CliRunner().invoke(_loader_app(), ["load", name])
    assert result.exit_code == EXIT_MODEL_REFUSED, repr(result.exception)
    assert "\\xff\\xfe[/b].keras" in result.stderr and "does not exist" in result.stderr
    os.makedirs(os.path.dirname(raw))  # "\xff\xfe[" is a folder, "b].keras" a file in it
    with open(raw, "wb"):  # now it exists, and is empty
        pass
    result = CliRunner().invoke(_loader_app(), ["load", name])
    assert result.exit_code == EXIT_MODEL_REFUSED and "is empty" in result.stderr


def test_non_utf8_name_in_a_real_terminal_pipe(tmp_path):
    """Outside CliRunner: real stdout/stderr of a subprocess, names from os.listdir."""
    raw = os.fsencode(str(tmp_path)) + b"/\xff.keras"
    open(raw, "wb").close()
    code = ("import os, sys\nfrom digitkit.modelfiles.keras_file import load_model\nfrom digitkit.errors import DigitkitError\n"
            "name = os.path.join(sys.argv[1], os.listdir(sys.argv[1])[0])\n"
            "try:\n    load_model(name)\nexcept DigitkitError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 0, proc.stderr
    assert b"\\xff.keras is empty" in proc.stdout


@pytest.mark.parametrize("text, shown", [
    (os.fsdecode(b"\xff.png"), "\\xff.png"), ("plain é ✓", "plain é ✓"), ("lone \ud800 high", "lone \\ud800 high"),
])
def test_printable(text, shown):
    assert printable(text) == shown
    printable(text).encode("utf-8")


def test_error_messages_and_hints_are_printable():
    error = errors.InputError(os.fsdecode(b"cannot read \xff.png"), hint=os.fsdecode(b"\xfe"))
    assert str(error) == "cannot read \\xff.png (\\xfe)"


def test_exit_codes_are_documented():
    text = DOCS.read_text(encoding="utf-8")
    for code, name in [(EXIT_OK, "ok"), (EXIT_FAILURE, "DigitkitError"), (EXIT_USAGE, "UsageError"),
                       (EXIT_BAD_INPUT, "InputError"), (EXIT_MODEL_REFUSED, "ModelRefusedError"),
                       (EXIT_PLUGIN, "PluginError"), (EXIT_UNAVAILABLE, "UnavailableError"),
                       (EXIT_PARTIAL, "PartialFailure"), (EXIT_INTERRUPTED, "Interrupted")]:
        assert f"| {code} |" in text and name in text, (code, name)


def test_the_suite_runs_with_the_usual_signal_dispositions():
    # A background job inherits SIGINT ignored; conftest.py gives it back so the Ctrl-C tests
    # mean something whoever started pytest (a terminal, `pytest &`, CI).
    import signal

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize("name, value, words", [
    ("DIGITKIT_STRICT_PLUGINS", "2", "must be 1 or 0, not '2'"), ("DIGITKIT_OFFLINE", "maybe", "must be 1 or 0"),
    ("DIGITKIT_DEBUG", "x", "must be 1 or 0"), ("DIGITKIT_MIN_FREE_MB", "lots", "must be a whole number >= 0"),
    ("DIGITKIT_PLUGIN_TIMEOUT", "-1", "must be seconds above 0"), ("DIGITKIT_MAX_PARAMS", "-3", "positive integer"),
])
def test_unreadable_digitkit_variables_are_refused_in_one_line(cli, monkeypatch, name, value, words):
    monkeypatch.setenv(name, value)
    for args in (["runs"], ["list-models", "--json"]):
        result = cli(*args)
        assert result.exit_code == EXIT_USAGE, result.output
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error:") and name in line and words in line and len(line) <= 80, line


def test_readable_spellings_of_yes_and_no_are_accepted(cli, monkeypatch):
    monkeypatch.setenv("DIGITKIT_STRICT_PLUGINS", "off")
    monkeypatch.setenv("DIGITKIT_OFFLINE", "yes")
    assert cli("runs").exit_code == 0
