"""80 columns first: every listing fits, nothing is cut, ids and numbers stay whole.

Each listing command is rendered at COLUMNS=80 with deliberately long content (long model and
dataset names, every run status); no line may exceed 80 characters and no cell may end in
"…". Help pages and usage errors follow the same rule and one style.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import typer

from digitkit import runs

WIDTH = 80


@pytest.fixture(autouse=True)
def eighty_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", str(WIDTH))


def assert_fits(text: str, what: str) -> None:
    assert text.strip(), f"{what} printed nothing"
    for line in text.splitlines():
        assert len(line) <= WIDTH, f"{what}: {len(line)} columns: {line!r}"
    assert "…" not in text, f"{what} cut a cell:\n{text}"


def make_run(model: str, status: str, dataset: str = "mnist") -> runs.Run:
    run = runs.create_run(model, {"dataset": {"name": dataset}, "recipe": {"epochs": 15}, "epochs_planned": 15})
    run.update_manifest(status=status, epochs_completed=15 if status == "completed" else 4, duration_s=754.2,
                        test_metrics={"loss": 0.03, "accuracy": 0.9912} if status == "completed" else None)
    return run


def test_list_models_is_one_line_per_model(cli):
    result = cli("list-models")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, "list-models")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 + 6  # title, header, one line per built-in model
    assert any("probabilities" in line for line in lines)  # whole, not `probabil…`


def test_list_models_wide_shows_recipes_uncut(cli):
    result = cli("list-models", "--wide")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, "list-models --wide")
    assert "adam 0.001, bs 128, 15 ep, val 0.1" in result.stdout


def test_runs_shows_short_ids_and_every_status_whole(cli):
    made = [make_run("dense-relu-dropout", status, dataset)
            for status, dataset in [("completed", "mnist_corrupted/shot_noise"), ("interrupted", "sample"),
                                    ("running", "emnist/digits"), ("failed", "mnist")]]
    result = cli("runs")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, "runs")
    for run, status in zip(made, ("completed", "interrupted", "running", "failed")):
        line = next(line for line in result.stdout.splitlines() if line.startswith(run.id.rsplit("-", 1)[1]))
        assert line.rstrip().endswith(status), line
    assert "12m34s" in result.stdout and "0.9912" in result.stdout


def test_datasets_fold_paths_at_separators(cli):
    import json

    from digitkit.render.paths import short_path

    result = cli("datasets")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, "datasets")
    assert "tensorflow-dat" not in result.stdout  # a kind is never broken mid-word
    words = result.stdout.split()
    for entry in json.loads(cli("datasets", "--json").stdout):
        # A path may fold after a "/", never inside a folder name.
        for name in short_path(entry["location"]).split("/"):
            assert not name or any(name in word for word in words), (name, result.stdout)


def test_bench_leaderboard_keeps_full_run_ids():
    from rich.console import Console

    from digitkit.render.evaluation import bench_table

    run_id = "20261128-091820-dense-relu-dropout-31d5"
    entries = [SimpleNamespace(model="dense-relu-dropout", error=None, accuracy=0.9812, loss=0.061, params=101_770,
                               train_seconds=1234.5, latency_ms=0.123, run=run_id),
               SimpleNamespace(model="bn-cnn", error="plugin failed to build", run=None)]
    console = Console(width=WIDTH, record=True, no_color=True)
    console.print(bench_table(entries))
    text = console.export_text()
    assert_fits(text, "bench")
    assert run_id in text and "98.12%" in text and "failed" in text


def test_epoch_lines_fit_one_line_and_never_split_a_number():
    from digitkit.render.progress import epoch_groups, fold_groups

    logs = {"loss": 0.1234, "accuracy": 0.9876, "val_loss": 0.2345, "val_accuracy": 0.9765}
    for epoch, epochs, samples in [(11, 15, 1_111_111), (100, 100, 1_111_111), (3, 15, 18_000), (1, 2, 124)]:
        groups = epoch_groups(epoch, epochs, logs, seconds=0.98, samples=samples)
        text = fold_groups(groups, WIDTH)
        assert "\n" not in text and len(text) <= WIDTH, text  # one line: it used to fold onto two
    assert fold_groups(epoch_groups(11, 15, logs, 0.98, 1_111_111), WIDTH).endswith("0.98 s 1.1M/s")
    narrow = fold_groups(epoch_groups(11, 15, logs, seconds=0.98, samples=1_111_111), 40)
    assert all(len(line) <= 40 for line in narrow.splitlines())
    for group in epoch_groups(11, 15, logs, seconds=0.98, samples=1_111_111):
        assert any(group in line for line in narrow.splitlines()), group  # folded between pieces only


def test_paths_fold_at_separators():
    from digitkit.render.paths import fold_path

    folded = fold_path("/home/ada/.digitkit/runs/20261128-091820-dense-relu-dropout-31d5/model.tflite", 30)
    lines = folded.splitlines()
    assert all(len(line) <= 30 for line in lines)
    assert all(line.endswith("/") for line in lines[:-1]) or len(lines[-2]) == 30
    assert "".join(lines) == "/home/ada/.digitkit/runs/20261128-091820-dense-relu-dropout-31d5/model.tflite"


def _every_command():
    from digitkit.cli.app import app

    group = typer.main.get_command(app)
    ctx = group.context_class(group)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        paths.append((name,))
        for sub in getattr(command, "commands", {}):
            paths.append((name, sub))
    return paths


@pytest.mark.parametrize("path", _every_command(), ids=" ".join)
def test_help_fits_and_shows_flags_as_flags(cli, path):
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, f"{' '.join(path)} --help")
    usage = result.stdout.splitlines()[0]
    assert usage.startswith(f"Usage: digitkit {' '.join(path)}"), usage
    assert "{" not in usage, usage  # MODEL, [PATTERN], PATHS...: one style, no {name}
    assert not re.search(r"<(bool|str|int|float|list|path|Path)", result.stdout), result.stdout  # no <bool>


def test_a_flag_takes_no_value_and_usage_errors_are_one_line(cli):
    result = cli("list-models", "--json", "true")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: no model matches 'true'")

    bad = cli("fit", "--bogus")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: no such option: --bogus") and "digitkit fit --help" in bad.stderr
    assert "╭" not in bad.output and bad.stderr.count("\n") == 1


def test_global_options_work_after_the_subcommand(cli, tmp_path, monkeypatch):
    import json
    import os

    elsewhere = tmp_path / "elsewhere"
    default_home = os.environ["DIGITKIT_HOME"]
    monkeypatch.setenv("DIGITKIT_HOME", str(elsewhere))
    run = make_run("cnn", "completed")
    monkeypatch.setenv("DIGITKIT_HOME", default_home)
    assert json.loads(cli("runs", "--json").stdout) == []
    result = cli("runs", "--home", str(elsewhere), "--json")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)] == [run.id]
    debug = cli("show-model", "no-such-model", "--debug")
    assert debug.exit_code == 2 and "Traceback" in debug.stderr


def test_no_arguments_prints_the_help(cli):
    result = cli()
    assert "Usage: digitkit" in result.output and "error:" not in result.output


def test_the_old_plugin_group_still_works_but_is_not_listed(cli):
    assert "plugin " not in cli("--help").stdout.replace("plugins", "")
    assert cli("plugin", "new", "--help").exit_code == 0
    assert cli("plugins", "new", "--help").exit_code == 0


def _complete(words: str) -> list[str]:
    import os
    import subprocess
    import sys

    env = {**os.environ, "_DIGITKIT_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    code = "import sys; sys.argv = ['digitkit']; from digitkit.cli.app import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_completion_offers_choices_run_ids_and_datasets():
    run = make_run("cnn", "completed")
    assert _complete("digitkit export cnn --format ") == ["litert", "tflite", "keras", "saved-model", "onnx"]
    assert _complete("digitkit report x -f ") == ["html", "md", "both"]
    assert run.id in _complete("digitkit runs show ")
    assert _complete("digitkit evaluate x -d emnist/") == ["emnist/digits", "emnist/mnist"]


def test_the_serve_extras_error_fits_a_line(cli, monkeypatch):
    import digitkit.serve

    monkeypatch.setattr(digitkit.serve, "REQUIRED", ("no_such_starlette", "no_such_uvicorn", "no_such_multipart"))
    result = cli("serve")
    assert result.exit_code == 6
    assert result.stderr.strip() == "error: the serve extra is not installed (pip install 'digitkit[serve]')"
    monkeypatch.setattr(digitkit.serve, "REQUIRED", ("json", "no_such_uvicorn"))
    assert "the serve extra is incomplete (no no_such_uvicorn)" in cli("serve").stderr
