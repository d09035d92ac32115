"""digitkit fit: run directory, progress output, CLI modes, errors (tiny data, 1-2 epochs)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from rich.console import Console

from digitkit import runs
from digitkit._internal.atomic import TEMP_PREFIX
from digitkit.data import load_digits
from digitkit.errors import EXIT_UNAVAILABLE, EXIT_USAGE, DigitkitError, UsageError
from digitkit.inference import resolve
from digitkit.training import fit

TINY = {"train_size": 300, "test_size": 100}


def temp_files(folder):
    return [p for p in folder.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_fit_writes_a_complete_run_directory(home):
    # dense-sigmoid's notebook recipe holds nothing out; a split here gives a best epoch to keep.
    result = fit("dense-sigmoid", epochs=2, seed=3, validation_split=0.1, **TINY)
    run = result.run
    assert run.path.parent == home / "runs"
    names = {p.name for p in run.path.iterdir()}
    assert {"manifest.json", "model.keras", "best.keras", "history.json", "history.csv", "metrics.json"} <= names
    assert runs.STATE not in names and not temp_files(run.path)  # state removed once completed

    manifest = run.manifest
    assert manifest["status"] == "completed" and manifest["model"] == "dense-sigmoid"
    assert manifest["overrides"] == {"epochs": 2, "validation_split": 0.1} and manifest["recipe"]["epochs"] == 2
    assert manifest["recipe"]["batch_size"] == 128  # from the recipe, not overridden
    assert manifest["seed"] == 3 and manifest["epochs_completed"] == 2
    assert manifest["plugin"]["distribution"] == "digitkit"
    assert manifest["spec"]["input"]["shape"] == [784] and manifest["spec"]["output"] == "probabilities"
    sample = load_digits(None, "train")
    first = type(sample)(sample.images[:300], sample.labels[:300], sample.dataset, "train", sample.source)
    assert manifest["dataset"]["fingerprint"] == first.fingerprint()
    assert manifest["dataset"]["train_size"] + manifest["dataset"]["validation_size"] == 300
    assert manifest["dataset"]["test_size"] == 100
    assert manifest["versions"]["keras"] and manifest["versions"]["tensorflow"]
    assert manifest["machine"]["cpus"] >= 1 and manifest["duration_s"] > 0
    assert manifest["speed"]["steps_per_execution"] == 1  # 3 batches per epoch: capped so progress moves
    assert isinstance(manifest["speed"]["onednn"], bool)

    metrics = json.loads((run.path / "metrics.json").read_text())
    assert metrics == manifest["test_metrics"] == result.test_metrics and 0 <= metrics["accuracy"] <= 1
    history = json.loads((run.path / "history.json").read_text())
    assert history["epoch"] == [1, 2] and len(history["val_accuracy"]) == 2 and len(history["epoch_seconds"]) == 2
    rows = list(csv.DictReader(io.StringIO((run.path / "history.csv").read_text())))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[1]["loss"]) == pytest.approx(history["loss"][1])

    from digitkit.modelfiles.keras_file import load_model

    model = load_model(run.model_path)
    assert model.predict(np.zeros((1, 784), "float32"), verbose=0).shape == (1, 10)
    assert resolve("dense-sigmoid").run.id == result.run_id


def test_cli_fit_without_terminal_prints_one_line_per_epoch(cli, tmp_path):
    result = cli("fit", "25-15-10", "--epochs", "2", "--train-size", "200", "--seed", "1", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    epoch_lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/2", "2/2"]
    assert "val loss" in epoch_lines[0] and epoch_lines[0].endswith("/s") and len(epoch_lines[0]) <= 80
    assert "\r" not in result.stderr and "\x1b[" not in result.stderr  # nothing that redraws
    assert "test" in result.stdout and "accuracy" in result.stdout  # the summary table
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert run_dir.name in result.stdout.replace("\n", "")
    assert json.loads((run_dir / "manifest.json").read_text())["overrides"] == {"epochs": 2}


@pytest.mark.slow
def test_cli_fit_json_and_quiet(cli):
    result = cli("fit", "25-15-10", "--epochs", "1", "--train-size", "200", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "completed" and data["epochs_completed"] == 1 and "accuracy" in data["test_metrics"]
    assert "epoch 1/1" not in result.stderr  # --json implies no progress

    result = cli("fit", "25-15-10", "--epochs", "1", "--train-size", "200", "--quiet", "--validation-split", "0")
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.strip().splitlines()
    assert "test accuracy" in line and "epoch" not in result.stderr
    run = runs.get_run(line.split()[0])
    assert run.manifest["dataset"]["validation_size"] == 0 and not (run.path / "best.keras").exists()


def test_live_progress_on_a_terminal(home, monkeypatch):
    from digitkit.render.progress import LineProgress, LiveProgress, make_progress

    dumb = Console(file=io.StringIO(), force_terminal=True)
    assert type(make_progress(dumb)) is LineProgress  # conftest sets TERM=dumb: no redrawing there
    monkeypatch.setenv("TERM", "xterm-256color")

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    progress = make_progress(console)
    assert isinstance(progress, LiveProgress)
    fit("25-15-10", epochs=2, batch_size=8, seed=0, progress=progress, **TINY)
    text = buffer.getvalue()
    assert "all epochs" in text and "epoch 1/2" in text and "ETA" in text  # the live bars
    assert "samples/s" in text and "loss" in text and "val loss" in text
    assert "epoch 2/2" in text and "evaluating on 100 test digits" in text


def test_gpu_flag_without_gpu_says_how_to_install(cli):
    result = cli("fit", "dense-sigmoid", "--gpu", "--epochs", "1", "--train-size", "100")
    assert result.exit_code == EXIT_UNAVAILABLE
    assert "no GPU" in result.stderr and 'pip install "tensorflow[and-cuda]"' in result.stderr
    assert "Traceback" not in result.output
    result = cli("fit", "dense-sigmoid", "--mixed-precision", "--epochs", "1", "--train-size", "100")
    assert result.exit_code == EXIT_USAGE and "needs a GPU" in result.stderr


def test_bad_options_are_usage_errors(cli):
    result = cli("fit", "dense-sigmoid", "--epochs", "0")
    assert result.exit_code == EXIT_USAGE and "epochs >= 1" in result.stderr
    result = cli("fit", "dense-sigmoid", "--devices", "many")
    assert result.exit_code == EXIT_USAGE and "--devices" in result.stderr
    result = cli("fit", "no-such-model")
    assert result.exit_code == EXIT_USAGE and "unknown model" in result.stderr
    result = cli("fit")
    assert result.exit_code == EXIT_USAGE and "model name" in result.stderr


def test_nan_loss_stops_with_a_clear_message_and_keeps_state(cli):
    result = cli("fit", "256-256-linear", "--learning-rate", "1e9", "--epochs", "2", "--train-size", "300")
    assert result.exit_code == 1, result.output
    message = result.stderr.strip()
    assert "loss became nan" in message and "lower --learning-rate" in message and "Traceback" not in message
    (run,) = runs.list_runs()
    assert run.manifest["status"] == "failed" and "nan" in run.manifest["error"]
    assert (run.path / "state" / "checkpoint.npz").is_file()  # the last good state
    assert not (run.path / "model.keras").exists()


def test_failing_save_keeps_previous_model_and_leaves_no_temp_files(tmp_path, monkeypatch):
    import errno

    import keras

    from digitkit.modelfiles import keras_file as modelfile
    from digitkit.zoo.mlp import SMALL_25_15_10

    model = SMALL_25_15_10.build()
    target = tmp_path / "model.keras"
    modelfile.save_model(model, target)
    before = target.read_bytes()

    def full_disk(model, path, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keras.saving, "save_model", full_disk)
    with pytest.raises(DigitkitError, match="disk is full"):
        modelfile.save_model(model, target)
    assert target.read_bytes() == before and not temp_files(tmp_path)


def test_failing_save_during_fit_marks_the_run_failed(home, monkeypatch):
    from digitkit.modelfiles import keras_file as modelfile

    def refuse(model, path):
        raise DigitkitError(f"could not write {path}: the disk is full")

    monkeypatch.setattr(modelfile, "save_model", refuse)
    with pytest.raises(DigitkitError, match="disk is full"):
        fit("25-15-10", epochs=1, **TINY)
    (run,) = runs.list_runs()
    assert run.manifest["status"] == "failed" and "disk is full" in run.manifest["error"]
    assert not temp_files(run.path) and not run.model_path.exists()


def test_resume_refuses_changed_settings_and_completed_runs(home):
    with pytest.raises(UsageError, match="--batch-size"):
        fit(resume="whatever", batch_size=3)
    result = fit("25-15-10", epochs=1, **TINY)
    with pytest.raises(UsageError, match="already completed"):
        fit(resume=result.run_id)


def test_augment_trains_and_is_recorded(home):
    result = fit("25-15-10", epochs=1, augment=True, seed=5, **TINY)
    assert result.run.manifest["options"]["augment"] is True and result.status == "completed"


def test_augment_batch_is_seeded_and_in_range():
    import tensorflow as tf

    from digitkit.training.augment import augment_batch
    from digitkit.spec import InputSpec

    digits = load_digits(None, "train").images[:16].astype("float32")[..., None] / 255.0
    images = tf.constant(digits)
    flat20 = InputSpec(image_size=20, shape=(400,))
    a = augment_batch(images, flat20, seed=(1, 0, 0)).numpy()
    b = augment_batch(images, flat20, seed=(1, 0, 0)).numpy()
    c = augment_batch(images, flat20, seed=(1, 0, 1)).numpy()
    assert a.shape == (16, 400) and a.min() >= 0 and a.max() <= 1
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    same = augment_batch(images, InputSpec(), seed=(1, 0, 0)).numpy()
    assert same.shape == (16, 28, 28, 1) and not np.array_equal(same, digits)


@pytest.mark.slow
def test_early_stopping_keeps_the_best_weights(home):
    # 160 digits and a high learning rate overfit within a few epochs: validation loss turns up.
    result = fit("256-256-linear", epochs=20, early_stopping=True, patience=2, learning_rate=0.01,
                 validation_split=0.2, seed=0, train_size=200, test_size=100)
    val_loss = result.history["val_loss"]
    assert result.epochs_completed < 20 and result.best_epoch == result.epochs_completed - 2
    assert min(val_loss) == val_loss[result.best_epoch - 1]
    assert any("early stopping" in note for note in result.notes)
    from digitkit.modelfiles.keras_file import load_model

    final, best = load_model(result.run.model_path), load_model(result.run_path / "best.keras")
    for a, b in zip(final.get_weights(), best.get_weights()):
        assert np.array_equal(a, b)  # the final model is the best epoch's
