"""Saving models on a full or unwritable disk, Ctrl-C during a save, and two fits at once."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from digitkit import runs
from digitkit._internal import atomic
from digitkit.errors import DigitkitError
from digitkit.modelfiles.keras_file import load_model, save_model

MODELS = Path(__file__).parent / "fixtures" / "models"


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(atomic.TEMP_PREFIX)]


@pytest.fixture
def saved(tmp_path):
    """A folder holding a good model.keras, and a second model to save over it."""
    import keras

    path = tmp_path / "run" / "model.keras"
    save_model(load_model(MODELS / "ok.keras"), path)
    return path, keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])


def _still_the_old_model(path: Path) -> None:
    assert load_model(path).input_shape == (None, 28, 28, 1)
    assert _temps(path.parent) == []


def test_save_model_on_a_full_disk(saved, monkeypatch):
    path, new = saved
    monkeypatch.setattr(atomic.os, "replace", lambda *a: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    with pytest.raises(DigitkitError, match="disk is full"):
        save_model(new, path)
    monkeypatch.undo()
    _still_the_old_model(path)


def test_save_model_when_keras_hits_a_full_disk(saved, monkeypatch):
    import keras

    path, new = saved

    def half_written(model, target, **kwargs):
        Path(target).write_bytes(b"PK\x03\x04 half an archive")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keras.saving, "save_model", half_written)
    with pytest.raises(DigitkitError, match="disk is full"):
        save_model(new, path)
    monkeypatch.undo()
    _still_the_old_model(path)


def test_save_model_into_a_read_only_folder(saved, monkeypatch):
    """As root, chmod cannot make a folder read-only: the refusal is simulated where it happens."""
    path, new = saved
    monkeypatch.setattr(atomic.tempfile, "mkstemp", lambda *a, **k: (_ for _ in ()).throw(
        OSError(errno.EROFS, "Read-only file system")))
    with pytest.raises(DigitkitError, match="not writable"):
        save_model(new, path)
    monkeypatch.undo()
    _still_the_old_model(path)


def test_ctrl_c_during_a_save(saved, monkeypatch):
    import keras

    path, new = saved

    def interrupted(model, target, **kwargs):
        Path(target).write_bytes(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.saving, "save_model", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(new, path)
    monkeypatch.undo()
    _still_the_old_model(path)


def test_save_never_prompts_and_replaces(saved):
    path, new = saved
    save_model(new, path)  # Keras would ask "overwrite?" if it wrote to path itself
    assert load_model(path).input_shape == (None, 784) and _temps(path.parent) == []


def test_two_fits_in_the_same_second_get_two_runs(home, monkeypatch):
    """Threads racing create_run with the same model name, second and (forced) random suffix."""
    tokens = iter(["beef"] * 4 + [f"{i:04x}" for i in range(100)])
    lock = threading.Lock()

    def token_hex(_):
        with lock:
            return next(tokens)

    monkeypatch.setattr("secrets.token_hex", token_hex)  # create_run imports secrets when it needs it
    barrier = threading.Barrier(4)
    made, errors = [], []

    def fit():
        barrier.wait()
        try:
            made.append(runs.create_run("cnn", {"seed": 1}))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({run.id for run in made}) == 4
    assert sum(run.id.endswith("-beef") for run in made) == 1
    assert all(run.manifest["status"] == "running" and run.manifest["model"] == "cnn" for run in made)


def test_two_processes_creating_runs_at_once(home):
    script = (
        "import sys, time\n"
        "from digitkit import runs\n"
        "start = float(sys.argv[1])\n"
        "time.sleep(max(0.0, start - time.time()))\n"
        "print(' '.join(runs.create_run('cnn', {}).id for _ in range(15)))\n"
    )
    start = str(time.time() + 1.5)
    env = {**os.environ, "DIGITKIT_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", script, start], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    ids = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        ids += out.split()
    assert len(ids) == 30 and len(set(ids)) == 30
    assert len(runs.list_runs()) == 30
    assert all(run.manifest["status"] == "running" for run in runs.list_runs())
    assert _temps(home / "runs") == []


@pytest.mark.parametrize("code, words", [(errno.EROFS, "not writable"), (errno.ENOSPC, "disk is full")])
@pytest.mark.parametrize("level", ["runs folder", "run folder"])
def test_create_run_in_an_unwritable_home(home, monkeypatch, code, words, level):
    real_mkdir = Path.mkdir
    if level == "run folder":
        real_mkdir(home / "runs")

    def mkdir(self, *args, **kwargs):
        if (level == "runs folder" and self == home / "runs") or self.parent == home / "runs":
            raise OSError(code, os.strerror(code))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(DigitkitError, match=words):
        runs.create_run("cnn", {})
