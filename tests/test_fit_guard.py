"""Resume that cannot corrupt: one writer per run, damaged state refused, specs checked."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

import keras
import pytest

from digitkit import runs
from digitkit.errors import EXIT_BAD_INPUT, EXIT_USAGE, Interrupted, PluginError, UsageError
from digitkit.training import fit

TINY = {"epochs": 2, "seed": 1, "train_size": 200, "test_size": 50}


class SigintAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def interrupted(home) -> runs.Run:
    with pytest.raises(Interrupted):
        fit("25-15-10", callbacks=[SigintAfterFirstEpoch()], **TINY)
    (run,) = runs.list_runs()
    return run


HOLDER = """
import sys, time
from pathlib import Path
from digitkit.training import lock
with lock.hold(Path(sys.argv[1]), "run"):
    print("held", flush=True)
    time.sleep(120)
"""


@contextlib.contextmanager
def held_elsewhere(run: runs.Run):
    """Another process holding the run's lock, as a second `fit --resume` would see it."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(run.path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_a_second_writer_is_refused_with_the_holders_pid(interrupted):
    with held_elsewhere(interrupted) as pid:
        with pytest.raises(UsageError, match=f"process {pid}"):
            fit(resume=interrupted.id)
    assert fit(resume=interrupted.id).status == "completed"  # the holder is gone: resumable again


DAMAGE = {
    "state.json": lambda run: (run.path / "state" / "state.json").write_text('{"epochs_completed": "one"}'),
    "state.json not JSON": lambda run: (run.path / "state" / "state.json").write_text("{"),
    "checkpoint.npz": lambda run: (run.path / "state" / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated"),
    "manifest recipe": lambda run: run.write(runs.MANIFEST, {k: v for k, v in run.manifest.items() if k != "recipe"}),
    "manifest list": lambda run: (run.path / runs.MANIFEST).write_text("[1, 2]"),
}


@pytest.mark.parametrize("what", list(DAMAGE))
def test_a_damaged_resume_file_is_one_line_saying_how_to_start_over(interrupted, cli, what):
    DAMAGE[what](interrupted)
    result = cli("fit", "--resume", str(interrupted.path))
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "cannot be resumed" in line and "start over with `digitkit fit" in line and "Traceback" not in line


def test_a_built_model_that_disagrees_with_its_spec_is_refused(fake_plugins, cli):
    fake_plugins("digitkit-liar", {"liar": "liar_model:SPEC"}, {"liar_model": LIAR})
    with pytest.raises(PluginError, match="gives output \\(3,\\)"):
        fit("liar", epochs=1, train_size=50, test_size=20)
    assert runs.list_runs() == []  # refused before a run directory exists


def test_resume_of_a_running_fit_from_the_cli_names_the_holder(interrupted, cli):
    with held_elsewhere(interrupted) as pid:
        result = cli("fit", "--resume", interrupted.id)
    assert result.exit_code == EXIT_USAGE and f"process {pid}" in result.stderr
    assert json.loads((interrupted.path / runs.MANIFEST).read_text())["status"] == "interrupted"


LIAR = """
from digitkit.spec import InputSpec, ModelSpec, Recipe

def build():
    import keras
    inputs = keras.Input(shape=(784,))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))

SPEC = ModelSpec(name="liar", summary="Says 10, gives 3.", input=InputSpec(28, (784,)),
                 output="probabilities", params=2355, recipe=Recipe(), builder=build)
"""
