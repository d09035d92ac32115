"""A home that is a file, read-only or full; `--out` into a file: one line before any work."""

from __future__ import annotations

import json

import pytest

from hostile_helpers import assert_one_error_line, tree
from digitkit import home as home_module
from digitkit.errors import EXIT_OK, EXIT_USAGE


@pytest.fixture
def no_training(monkeypatch):
    """Fail loudly if a command got as far as training."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("training started although the home is unusable")

    monkeypatch.setattr("digitkit.training.fit", refuse)


def test_a_home_that_is_a_file_is_refused_before_any_work(run_cli, tmp_path):
    home_file = tmp_path / "home-file"
    home_file.write_text("not a folder")
    for args in (["fit", "25-15-10", "--epochs", "1"], ["runs"], ["evaluate", "cnn"]):
        result = run_cli(*args, env={"DIGITKIT_HOME": str(home_file)}, timeout=60)
        assert_one_error_line(result, EXIT_USAGE, str(home_file), "is a file, not a folder", "DIGITKIT_HOME")
    assert home_file.read_text() == "not a folder"


def test_a_home_inside_a_file_is_refused(cli, tmp_path, monkeypatch, no_training):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("DIGITKIT_HOME", str(blocker / "home"))
    assert_one_error_line(cli("fit", "25-15-10"), EXIT_USAGE, "is inside", "a file, not a folder")


def test_a_read_only_home_is_refused_before_fit(cli, monkeypatch, no_training, home):
    monkeypatch.setattr(home_module, "_writable", lambda _folder: False)
    assert_one_error_line(cli("fit", "25-15-10"), EXIT_USAGE, "is not writable")
    assert tree(home) == []


def test_a_full_disk_is_refused_before_fit(cli, monkeypatch, no_training):
    monkeypatch.setenv("DIGITKIT_MIN_FREE_MB", str(10 ** 12))
    assert_one_error_line(cli("fit", "25-15-10"), EXIT_USAGE, "MB free", "needs")


def test_reading_commands_still_work_in_a_read_only_home(cli, monkeypatch, home):
    monkeypatch.setattr(home_module, "_writable", lambda _folder: False)
    result = cli("runs")
    assert result.exit_code == EXIT_OK and "no runs yet" in result.stderr


@pytest.mark.slow
def test_evaluate_in_a_read_only_home_prints_the_result_and_says_it_was_not_saved(cli, make_run, monkeypatch):
    run = make_run()
    from digitkit.errors import DigitkitError

    def read_only(*_args, **_kwargs):
        raise DigitkitError(f"could not write {run.path / 'evaluation.json'}: the folder is not writable")

    monkeypatch.setattr("digitkit.evaluation.scoring.save_evaluation", read_only)
    result = cli("evaluate", run.id, "--json")
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    assert 0 <= data["metrics"]["accuracy"] <= 1
    assert "not saved" in result.output and "not writable" in result.output
    assert not (run.path / "evaluation.json").exists()


def test_out_inside_a_file_names_the_file(tmp_path):
    from digitkit import runs
    from digitkit._internal import atomic
    from digitkit.errors import DigitkitError, UsageError

    blocker = tmp_path / "results.txt"
    blocker.write_text("keep me")
    with pytest.raises(DigitkitError, match="results.txt is a file, not a folder"):
        atomic.write_text(blocker / "model.tflite", "x")
    with pytest.raises(DigitkitError, match="results.txt is a file, not a folder"):
        runs.create_run("cnn", {}, root=blocker / "runs")
    with pytest.raises(UsageError, match="it is a file, not a folder"):
        runs.create_run("cnn", {}, root=blocker)
    assert blocker.read_text() == "keep me"


def test_every_hostile_case_is_in_the_reliability_table():
    from pathlib import Path

    here = Path(__file__).resolve().parent
    table = (here.parents[1] / "docs" / "reliability.md").read_text(encoding="utf-8")
    names = [line.split("(", 1)[0][4:] for path in sorted(here.glob("test_*.py"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("def test_")]
    names.remove("test_every_hostile_case_is_in_the_reliability_table")
    missing = [name for name in names if f"`{name}`" not in table]
    assert not missing, missing
