"""digitkit runs (list/show/rm) and model resolution by run id, path and name (no training)."""

from __future__ import annotations

import json

import pytest

from digitkit import runs
from digitkit.errors import EXIT_USAGE, UnknownModelError


def fake_run(model: str, status: str = "completed", accuracy: float | None = 0.97, stamp: str | None = None
             ) -> runs.Run:
    """A run directory as fit leaves it (the model file is a stand-in); ``stamp`` backdates its id."""
    run = runs.create_run(model, {"dataset": {"name": "mnist"}, "recipe": {"epochs": 3}, "epochs_planned": 3})
    if stamp:  # ids sort by time; runs made within one second need a distinct one
        new_id = f"{stamp}-{run.id.split('-', 2)[2]}"
        run.path.rename(run.path.with_name(new_id))
        run = runs.Run(run.path.with_name(new_id))
        run.update_manifest(id=new_id)
    run.update_manifest(status=status, epochs_completed=3 if status == "completed" else 1, duration_s=12.5,
                        test_metrics={"loss": 0.1, "accuracy": accuracy} if accuracy is not None else None)
    run.model_path.write_bytes(b"not really a model")
    run.write(runs.HISTORY_JSON, {"epoch": [1, 2, 3], "loss": [0.5, 0.3, 0.2], "accuracy": [0.8, 0.9, 0.95]})
    return run


def test_runs_lists_nothing_yet(cli):
    result = cli("runs")
    assert result.exit_code == 0 and "no runs yet" in result.stderr and result.stdout == ""
    assert json.loads(cli("runs", "--json").stdout) == []


def test_runs_lists_id_model_dataset_epochs_accuracy_time_status(cli):
    done = fake_run("dense-sigmoid", stamp="20200101-000000")
    stopped = fake_run("cnn", status="interrupted", accuracy=None)
    result = cli("runs")
    assert result.exit_code == 0, result.output
    # The listing shows the id's random suffix (what users type); --json has the full ids.
    assert done.id.rsplit("-", 1)[1] in result.stdout and stopped.id.rsplit("-", 1)[1] in result.stdout
    for text in ("dense-sigmoid", "mnist", "3/3", "0.9700", "12.5s", "completed", "1/3", "interrupted"):
        assert text in result.stdout, text
    rows = json.loads(cli("runs", "--json").stdout)
    assert [r["id"] for r in rows] == [done.id, stopped.id]
    assert rows[0]["test_accuracy"] == 0.97 and rows[1]["status"] == "interrupted"


def test_runs_escapes_markup_in_manifests(cli):
    run = fake_run("dense-sigmoid")
    run.update_manifest(model="[/b]evil[red]")
    result = cli("runs")
    assert result.exit_code == 0 and "[/b]evil[red]" in result.stdout


def test_runs_show_manifest_and_history(cli):
    run = fake_run("dense-sigmoid")
    result = cli("runs", "show", run.id[:-2])  # a unique prefix is enough
    assert result.exit_code == 0, result.output
    assert run.id in result.stdout and "loss 0.5000 → 0.2000" in result.stdout and "model.keras" in result.stdout
    data = json.loads(cli("runs", "show", run.id, "--json").stdout)
    assert data["manifest"]["id"] == run.id and data["history"]["epoch"] == [1, 2, 3]
    result = cli("runs", "show", "nope")
    assert result.exit_code == EXIT_USAGE and "no run 'nope'" in result.stderr


def test_runs_rm_asks_first(cli):
    run = fake_run("dense-sigmoid")
    result = cli("runs", "rm", run.id, input="n\n")
    assert result.exit_code == EXIT_USAGE and run.path.exists() and "--yes" in result.stderr
    result = cli("runs", "rm", run.id, input="y\n")
    assert result.exit_code == 0 and not run.path.exists()
    other = fake_run("cnn")
    result = cli("runs", "rm", other.id, "--yes")
    assert result.exit_code == 0 and not other.path.exists() and "removed" in result.stderr


def test_resolve_model_by_run_id_path_folder_and_name(home, tmp_path):
    older = fake_run("dense-sigmoid", stamp="20200101-000000")
    newer = fake_run("dense-sigmoid")
    fake_run("dense-sigmoid", status="interrupted")  # never chosen by name
    by_id = runs.resolve_model(older.id)
    assert by_id.run == older and by_id.model_path == older.model_path and by_id.model_name == "dense-sigmoid"
    by_path = runs.resolve_model(str(older.model_path))
    assert by_path.model_path == older.model_path and by_path.run.id == older.id
    by_folder = runs.resolve_model(str(newer.path))
    assert by_folder.run.id == newer.id
    by_name = runs.resolve_model("dense-sigmoid")
    assert by_name.run.id == newer.id  # the latest completed run
    loose = tmp_path / "mine.keras"
    loose.write_bytes(b"x")
    assert runs.resolve_model(str(loose)).run is None
    with pytest.raises(UnknownModelError, match="no completed run"):
        runs.resolve_model("cnn")
    with pytest.raises(UnknownModelError, match="unknown model"):
        runs.resolve_model("cnnn")
