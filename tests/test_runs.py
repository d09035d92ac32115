"""digitkit runs (list/show/rm) and model resolution by run id, path and name.

Runs are copies of one real `fit` (the session fixture ``make_run`` in conftest).
"""

from __future__ import annotations

import json

import pytest

from digitkit import runs
from digitkit.errors import EXIT_USAGE, UnknownModelError
from digitkit.inference import resolve


def test_runs_lists_nothing_yet(cli):
    result = cli("runs")
    assert result.exit_code == 0 and "no runs yet" in result.stderr and result.stdout == ""
    assert json.loads(cli("runs", "--json").stdout) == []


def test_runs_lists_id_model_dataset_epochs_accuracy_time_status(cli, make_run):
    done = make_run(stamp="20200101-000000")
    stopped = make_run(model="cnn", status="interrupted", epochs_completed=0, test_metrics=None)
    accuracy = done.load_manifest().test_metrics["accuracy"]
    result = cli("runs")
    assert result.exit_code == 0, result.output
    # The listing shows the id's short hash (what users type); --json has the full ids.
    assert done.id.rsplit("-", 1)[1] in result.stdout and stopped.id.rsplit("-", 1)[1] in result.stdout
    for text in ("25-15-10", "sample", "1/1", f"{accuracy:.4f}", "completed", "0/1", "interrupted"):
        assert text in result.stdout, text
    rows = json.loads(cli("runs", "--json").stdout)
    assert [r["id"] for r in rows] == [done.id, stopped.id]
    assert rows[0]["test_accuracy"] == accuracy and rows[1]["status"] == "interrupted"


def test_runs_escapes_markup_in_manifests(cli, make_run):
    run = make_run()
    run.update_manifest(model="[/b]evil[red]")
    result = cli("runs")
    assert result.exit_code == 0 and "[/b]evil[red]" in result.stdout


def test_runs_show_manifest_and_history(cli, make_run):
    run = make_run()
    loss = run.read(runs.HISTORY_JSON)["loss"][0]
    result = cli("runs", "show", run.id[:-2])  # a unique prefix is enough
    assert result.exit_code == 0, result.output
    assert run.id in result.stdout and f"loss {loss:.4f} → {loss:.4f}" in result.stdout
    assert "model.keras" in result.stdout
    data = json.loads(cli("runs", "show", run.id, "--json").stdout)
    assert data["manifest"]["id"] == run.id and data["history"]["epoch"] == [1]
    result = cli("runs", "show", "nope")
    assert result.exit_code == EXIT_USAGE and "no run 'nope'" in result.stderr


def test_runs_rm_asks_first(cli, make_run):
    run = make_run()
    result = cli("runs", "rm", run.id, input="n\n")
    assert result.exit_code == EXIT_USAGE and run.path.exists() and "--yes" in result.stderr
    result = cli("runs", "rm", run.id, input="y\n")
    assert result.exit_code == 0 and not run.path.exists()
    other = make_run(model="cnn")
    result = cli("runs", "rm", other.id, "--yes")
    assert result.exit_code == 0 and not other.path.exists() and "removed" in result.stderr


def test_resolve_model_by_run_id_path_folder_and_name(home, tmp_path, make_run):
    older = make_run(stamp="20200101-000000", model="dense-sigmoid")
    newer = make_run(stamp="20200101-000001", model="dense-sigmoid")
    make_run(model="dense-sigmoid", status="interrupted")  # never chosen by name
    by_id = resolve(older.id)
    assert by_id.run.id == older.id and by_id.keras_path == older.model_path and by_id.name == "dense-sigmoid"
    by_path = resolve(str(older.model_path))
    assert by_path.keras_path == older.model_path and by_path.run.id == older.id
    by_folder = resolve(str(newer.path))
    assert by_folder.run.id == newer.id
    by_name = resolve("dense-sigmoid")
    assert by_name.run.id == newer.id  # the latest completed run
    loose = tmp_path / "mine.keras"
    loose.write_bytes(b"x")
    assert resolve(str(loose)).run is None
    shipped = resolve("cnn")  # no run of the user's: the weights that ship with digitkit
    assert shipped.run is None and shipped.pretrained and shipped.notes
    with pytest.raises(UnknownModelError, match="unknown model"):
        resolve("cnnn")


def test_runs_rm_with_a_model_name_lists_its_runs_and_removes_nothing(cli, make_run):
    made = [make_run(stamp=f"2026010{i}-000000", model="cnn") for i in range(1, 7)]
    result = cli("runs", "rm", "cnn", "-y")
    assert result.exit_code == EXIT_USAGE, result.output
    line = result.stderr.strip()
    assert line.startswith("error: cnn is a model with 6 run(s); name the one to remove: ")
    assert made[-1].suffix in line and made[-4].suffix in line and ", ..." in line
    assert all(run.path.is_dir() for run in made)  # nothing removed
    assert cli("runs", "rm", made[0].suffix, "-y").exit_code == 0 and not made[0].path.exists()
