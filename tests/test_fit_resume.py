"""Interrupting, resuming, determinism and distribution of digitkit fit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from digitkit import runs
from digitkit.errors import EXIT_INTERRUPTED, Interrupted, UnavailableError
from digitkit.modelfiles.keras_file import load_model
from digitkit.training import fit

# dense-relu-dropout has dropout: resuming must also restore its random-generator state.
SETTINGS = {"epochs": 3, "seed": 11, "train_size": 300, "test_size": 100, "batch_size": 32}


class SigintAfterEpoch(keras.callbacks.Callback):
    """What a user's Ctrl-C does, delivered at a known point: after 0-based epoch ``epoch``."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


def weights_of(run: runs.Run) -> list[np.ndarray]:
    return load_model(run.model_path).get_weights()


@pytest.mark.slow
def test_resume_after_interrupt_equals_an_uninterrupted_run(home):
    straight = fit("dense-relu-dropout", **SETTINGS)

    with pytest.raises(Interrupted) as caught:
        fit("dense-relu-dropout", callbacks=[SigintAfterEpoch(0)], **SETTINGS)
    assert "digitkit fit --resume" in caught.value.hint
    (interrupted,) = [r for r in runs.list_runs() if r.id != straight.run_id]
    manifest = interrupted.manifest
    assert manifest["status"] == "interrupted" and manifest["epochs_completed"] == 1
    assert manifest["resume_command"] == f"digitkit fit --resume {interrupted.id}"
    assert (interrupted.path / "state" / "checkpoint.npz").is_file()
    assert json.loads((interrupted.path / "history.json").read_text())["epoch"] == [1]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers given back

    resumed = fit(resume=interrupted.id)
    assert resumed.run_id == interrupted.id and resumed.epochs_completed == 3
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert resumed.history[key] == straight.history[key], key  # bit for bit
    assert resumed.test_metrics == straight.test_metrics
    for a, b in zip(weights_of(resumed.run), weights_of(straight.run)):
        assert np.array_equal(a, b)
    assert resumed.run.manifest["status"] == "completed" and not (resumed.run_path / "state").exists()
    assert len(resumed.run.manifest["resumed"]) == 1


@pytest.mark.slow
def test_same_seed_same_history_bit_for_bit(home):
    first = fit("dense-relu-dropout", **{**SETTINGS, "epochs": 2})
    second = fit("dense-relu-dropout", **{**SETTINGS, "epochs": 2})
    other = fit("dense-relu-dropout", **{**SETTINGS, "epochs": 2, "seed": 12})
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert first.history[key] == second.history[key]
    assert first.history["loss"] != other.history["loss"]
    for a, b in zip(weights_of(first.run), weights_of(second.run)):
        assert np.array_equal(a, b)


def test_cli_interrupt_exits_130_and_prints_the_resume_command(cli, monkeypatch):
    from digitkit.training import callbacks

    original = callbacks.StopSignals.__enter__

    def pressed_ctrl_c(self):
        original(self)
        self.request("SIGINT")  # as if Ctrl-C came during the first batch
        return self

    monkeypatch.setattr(callbacks.StopSignals, "__enter__", pressed_ctrl_c)
    result = cli("fit", "25-15-10", "--epochs", "2", "--train-size", "200", "--seed", "1")
    assert result.exit_code == EXIT_INTERRUPTED
    (run,) = runs.list_runs()
    assert f"digitkit fit --resume {run.id}" in result.stderr and "after epoch 0 of 2" in result.stderr
    assert run.manifest["status"] == "interrupted"

    monkeypatch.setattr(callbacks.StopSignals, "__enter__", original)
    result = cli("fit", "--resume", run.id[:20], "--quiet")
    assert result.exit_code == 0, result.output
    assert run.manifest["status"] == "completed" and run.manifest["epochs_completed"] == 2


def test_too_many_devices_is_unavailable(home):
    with pytest.raises(UnavailableError, match="only 1 CPU devices visible"):
        fit("25-15-10", devices=4, epochs=1, train_size=100)


MIRRORED = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from digitkit.training import fit
    result = fit("dense-sigmoid", devices=sys.argv[1], epochs=2, seed=0, train_size=512, test_size=100)
    print("RESULT=" + json.dumps({"placement": result.run.manifest["placement"],
                                  "accuracy": result.test_metrics["accuracy"], "epochs": result.history["epoch"]}))
""")


@pytest.mark.slow
def test_mirrored_strategy_over_two_logical_cpus(home):
    # Logical devices must be set before TensorFlow starts: hence a fresh process.
    proc = subprocess.run([sys.executable, "-c", MIRRORED, "all"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DIGITKIT_HOME": str(home)})
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT=")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    data = json.loads(lines[0][len("RESULT="):])
    assert data["placement"]["strategy"] == "mirrored" and data["placement"]["replicas"] == 2
    assert len(data["placement"]["devices"]) == 2 and data["epochs"] == [1, 2]
    assert 0 <= data["accuracy"] <= 1


class SigtermAfterEpoch(SigintAfterEpoch):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.slow
def test_sigterm_stops_too_and_runs_under_out_resume_by_folder(home, tmp_path):
    with pytest.raises(Interrupted) as caught:
        fit("25-15-10", epochs=2, seed=2, train_size=200, test_size=50, out=tmp_path,
            callbacks=[SigtermAfterEpoch(0)])
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert caught.value.hint == f"resume with: digitkit fit --resume {folder}"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    resumed = fit(resume=str(folder))
    assert resumed.run_path == folder and resumed.epochs_completed == 2 and resumed.status == "completed"
    assert runs.list_runs() == []  # nothing under the home
