"""Hostile cases for runs: removal that cannot lose a run, damaged files, run naming.

Runs are real: copies of one `fit` of 25-15-10 on 300 digits (``make_run`` in conftest).
"""

from __future__ import annotations

import errno
import json
import os
import shutil

import pytest

from hostile_helpers import assert_one_error_line, tree
from digitkit import runs
from digitkit.errors import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from digitkit.inference import resolve


# -- removal --------------------------------------------------------------------------------------

@pytest.mark.parametrize("ref", ["", "  "])
def test_rm_with_an_empty_id_is_refused_and_removes_nothing(cli, make_run, ref):
    run = make_run()
    assert_one_error_line(cli("runs", "rm", ref, "-y"), EXIT_USAGE, "empty run id")
    assert run.path.is_dir() and (run.path / "manifest.json").is_file()


def test_rm_with_an_ambiguous_prefix_lists_the_candidates(cli, make_run):
    first, second = make_run(stamp="20200101-000000"), make_run(stamp="20200101-000001")
    line = assert_one_error_line(cli("runs", "rm", "2020", "-y"), EXIT_USAGE, "matches 2 runs")
    assert first.id in line and second.id in line
    assert first.path.is_dir() and second.path.is_dir()


def test_rm_that_fails_half_way_leaves_a_named_trash_folder_that_purge_finishes(cli, make_run, home, monkeypatch):
    run = make_run()
    real_rmtree = shutil.rmtree

    def stuck(path, *args, **kwargs):  # like `chattr +i` on one file: the rest goes, one stays
        (path / "history.json").unlink()
        raise PermissionError(errno.EPERM, "Operation not permitted", str(path / "model.keras"))

    monkeypatch.setattr("digitkit.runs.removal.shutil.rmtree", stuck)
    line = assert_one_error_line(cli("runs", "rm", run.id, "-y"), EXIT_FAILURE, run.id, "moved to", "--purge")
    assert not run.path.exists()
    trash = list((home / "runs" / ".trash").iterdir())
    assert len(trash) == 1 and trash[0].name.startswith(run.id) and str(trash[0]) in line
    listing = cli("runs")
    assert listing.exit_code == EXIT_OK and "half-removed" in listing.stderr and trash[0].name in listing.stderr
    monkeypatch.setattr("digitkit.runs.removal.shutil.rmtree", real_rmtree)
    purged = cli("runs", "rm", "--purge")
    assert purged.exit_code == EXIT_OK and "purged 1" in purged.stderr
    assert tree(home / "runs") == []


def test_rm_in_a_read_only_home_loses_nothing(cli, make_run, monkeypatch):
    run = make_run()
    before = tree(run.path)

    def read_only(*_args):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("digitkit.runs.removal.os.rename", read_only)
    assert_one_error_line(cli("runs", "rm", run.id, "-y"), EXIT_FAILURE, "read-only", "nothing was removed")
    assert tree(run.path) == before


def test_rm_of_a_symlinked_run_removes_the_link_only(cli, make_run, home, tmp_path):
    run = make_run()
    elsewhere = tmp_path / "kept" / run.id
    elsewhere.parent.mkdir()
    shutil.move(str(run.path), elsewhere)
    os.symlink(elsewhere, run.path)
    result = cli("runs", "rm", run.id, "-y")
    assert result.exit_code == EXIT_OK and "link only" in result.stderr
    assert not run.path.is_symlink() and not run.path.exists()
    assert (elsewhere / "manifest.json").is_file() and (elsewhere / "model.keras").is_file()


def test_a_folder_without_manifest_is_listed_and_removable(cli, make_run, home):
    good = make_run()
    half = home / "runs" / "20200101-000000-cnn-dead"
    half.mkdir()
    (half / "model.keras").write_bytes(b"orphan")
    listing = cli("runs")
    # The listing shows each id's short hash (the part users type); --json has the full ids.
    assert listing.exit_code == EXIT_OK and good.id.rsplit("-", 1)[1] in listing.stdout
    assert "unreadable" in listing.stdout and "no manifest.json" in listing.stderr
    assert cli("runs", "rm", "dead", "-y").exit_code == EXIT_OK and not half.exists()


# -- damaged and foreign manifests ------------------------------------------------------------------

@pytest.mark.parametrize("content, reason", [
    ("[]", "holds a JSON list, not an object"),
    ('{"id": "x", "model": "cnn", "epochs_completed": "three"}', "'epochs_completed' should be int"),
    ('{"id": "x", "model": "cnn", "schema_version": 99}', "newer digitkit"),
    ('{"id": "x"', "not readable JSON"),
    ('{"id": "x", "model": 7}', "'model' should be str"),
])
def test_a_damaged_manifest_makes_only_that_run_unreadable(cli, make_run, content, reason):
    good = make_run(stamp="20200101-000000")
    bad = make_run(stamp="20200101-000001")
    (bad.path / "manifest.json").write_text(content)
    listing = cli("runs")
    assert listing.exit_code == EXIT_OK, listing.output
    assert good.id.rsplit("-", 1)[1] in listing.stdout and bad.id.rsplit("-", 1)[1] in listing.stdout
    assert "unreadable" in listing.stdout
    assert reason in listing.stderr
    rows = {row["id"]: row for row in json.loads(cli("runs", "--json").stdout)}
    assert rows[bad.id]["status"] == "unreadable" and reason in rows[bad.id]["problem"]
    assert rows[good.id]["status"] == "completed"
    # the model lookup of the whole home still works, and picks the good run
    assert resolve("25-15-10").run.id == good.id
    assert_one_error_line(cli("runs", "show", bad.id), EXIT_BAD_INPUT, bad.id, "unreadable", "runs rm")
    assert cli("runs", "show", good.id).exit_code == EXIT_OK
    assert cli("runs", "rm", bad.id, "-y").exit_code == EXIT_OK and not bad.path.exists()


def test_latest_run_of_skips_unreadable_and_incomplete_runs(make_run):
    good = make_run(stamp="20200101-000000")
    make_run(stamp="20200101-000001", status="interrupted")
    broken = make_run(stamp="20200101-000002")
    (broken.path / "manifest.json").write_text("[]")
    assert runs.latest_run_of("25-15-10").id == good.id
    assert runs.latest_run_of("25-15-10", completed=False).id != broken.id


# -- damaged run files ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, content, words", [
    ("history.json", '{"epoch": ["one"], "loss": [0.1]}', ["history.json is damaged", "list of integers"]),
    ("history.json", '{"epoch": [1], "loss": "low"}', ["history.json is damaged", "'loss' must be a list"]),
    ("history.json", "[1, 2]", ["history.json is damaged", "expected an object"]),
    ("metrics.json", '{"accuracy": "high"}', ["metrics.json is damaged", "must be a number"]),
    ("evaluation.json", '{"dataset": 3}', ["evaluation.json is damaged", "'dataset' must be an object"]),
    ("state/state.json", '{"epochs_completed": -1}', ["state/state.json is damaged", "non-negative"]),
])
def test_every_run_file_is_validated_on_read(make_run, name, content, words):
    run = make_run()
    (run.path / name).parent.mkdir(exist_ok=True)
    (run.path / name).write_text(content)
    with pytest.raises(runs.RunFileError) as caught:
        run.read(name)
    message = str(caught.value)
    for word in [run.id, *words]:
        assert word in message
    assert "runs rm" in message or "evaluate" in message  # the way out


def test_runs_show_survives_a_history_with_wrong_types(cli, make_run):
    run = make_run()
    (run.path / "history.json").write_text('{"epoch": [1], "loss": ["x"]}')
    result = cli("runs", "show", run.id)
    assert result.exit_code == EXIT_OK and run.id in result.stdout
    assert "history.json is damaged" in result.stderr and "Traceback" not in result.output
    data = json.loads(cli("runs", "show", run.id, "--json").stdout)
    assert data["history"] is None and "history.json" in data["problems"][0]


@pytest.mark.slow
def test_report_of_a_run_with_a_damaged_history_still_reports(cli, make_run, tmp_path):
    run = make_run()
    (run.path / "history.json").write_text('{"epoch": "1"}')
    result = cli("report", run.id, "--out", tmp_path / "r.html")
    assert result.exit_code == EXIT_OK and "Traceback" not in result.output
    assert "history.json is damaged" in " ".join(result.stderr.split())
    assert (tmp_path / "r.html").stat().st_size > 0


# -- naming ---------------------------------------------------------------------------------------

def test_runs_answer_to_id_prefix_hash_label_and_model_name(cli, make_run):
    older = make_run(stamp="20200101-000000", name="Baseline")
    newer = make_run(stamp="20200101-000001", model="cnn")
    for ref, expected in [(older.id, older), (older.id[:15], older), (older.suffix, older), ("baseline", older),
                          ("BASELINE", older), ("cnn", newer), ("CNN", newer), ("25-15-10", older)]:
        assert runs.get_run(ref).id == expected.id, ref
        result = cli("runs", "show", ref, "--json")
        assert result.exit_code == EXIT_OK and json.loads(result.stdout)["manifest"]["id"] == expected.id, ref
    assert_one_error_line(cli("runs", "show", "nope"), EXIT_USAGE, "no run 'nope'")


def test_a_label_two_runs_share_is_ambiguous(cli, make_run):
    first, second = make_run(stamp="20200101-000000", name="try"), make_run(stamp="20200101-000001", name="try")
    line = assert_one_error_line(cli("runs", "rm", "try", "-y"), EXIT_USAGE, "label 'try' matches 2 runs")
    assert first.id in line and second.id in line and first.path.exists() and second.path.exists()


def test_data_trained_on_is_named_truthfully(cli, make_run):
    run = make_run()  # fit fell back to the bundled sample (tests are offline)
    manifest = run.load_manifest()
    assert manifest.dataset["name"] == "sample" and "bundled" in manifest.dataset["source"]
    # an older manifest that recorded the dataset it fell back from reads as the sample too
    data = json.loads((run.path / "manifest.json").read_text())
    data["dataset"]["name"] = "mnist"
    (run.path / "manifest.json").write_text(json.dumps(data))
    rows = json.loads(cli("runs", "--json").stdout)
    assert rows[0]["dataset"] == "sample"
    assert "mnist" not in cli("runs").stdout


def test_model_names_are_case_insensitive_with_suggestions(cli):
    from digitkit.plugins import registry

    assert registry.get_spec("CNN").name == "cnn" and registry.is_model("Dense-Sigmoid")
    result = cli("show-model", "CNN", "--json")
    assert result.exit_code == EXIT_OK and json.loads(result.stdout)["name"] == "cnn"
    assert_one_error_line(cli("show-model", "CNNN"), EXIT_USAGE, "unknown model 'CNNN'", "did you mean 'cnn'")


# -- the manifest --------------------------------------------------------------------------------

def test_fit_writes_a_versioned_manifest_that_round_trips(make_run):
    run = make_run()
    manifest = run.load_manifest()
    assert manifest.schema_version == runs.SCHEMA_VERSION and manifest.completed and manifest.model == "25-15-10"
    assert runs.Manifest.from_dict(manifest.to_dict()) == manifest
    assert "versions" in manifest.extra  # fields the dataclass does not type are kept as written
    with pytest.raises(runs.RunUnreadable, match="refusing to write an invalid manifest"):
        run.update_manifest(epochs_completed="many")
    assert run.load_manifest() == manifest


# -- locks ---------------------------------------------------------------------------------------

def test_a_second_writer_is_refused_naming_the_pid(make_run, tmp_path):
    import subprocess
    import sys

    run = make_run()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from digitkit import runs\n"
        f"with runs.lock(runs.Run(Path({str(run.path)!r}))):\n"
        "    print('locked', flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(runs.RunLocked, match=f"in use by process {holder.pid}"):
            with runs.lock(run):
                pass
        with pytest.raises(runs.RunLocked, match="not removed"):  # nor removed under its feet
            runs.remove_run(run.id)
        assert run.path.is_dir()
    finally:
        holder.kill()
        holder.wait()
    with runs.lock(run):  # the holder died: its stale lock is taken over
        assert (run.path / runs.LOCK).read_text() == str(os.getpid())
    assert not (run.path / runs.LOCK).exists()
