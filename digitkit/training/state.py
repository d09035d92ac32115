"""Resumable training state, kept in a run's ``state/`` folder.

``state/checkpoint.npz`` holds every model variable (weights and the dropout seed
generators' states), every optimizer variable (step count, moments), and the best
weights so far; ``state/state.json`` holds the epoch reached, the history and the
early-stopping counters. Both are written atomically after every epoch, so an interrupted
or crashed run resumes from its last completed epoch. The data order needs no state: it
is drawn from ``(seed, epoch)`` (see :mod:`digitkit.training.data`).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from digitkit import runs
from digitkit._internal import atomic
from digitkit.errors import InputError, UsageError

CHECKPOINT = "checkpoint.npz"
STATE_JSON = "state.json"


def state_dir(run: runs.Run) -> Path:
    return run.path / runs.STATE


def has_state(run: runs.Run) -> bool:
    folder = state_dir(run)
    return (folder / CHECKPOINT).is_file() and (folder / STATE_JSON).is_file()


def save(run: runs.Run, model: Any, info: dict[str, Any], best_weights: list[np.ndarray] | None) -> None:
    """Write the checkpoint, then the JSON that points at it (the JSON is the commit)."""
    arrays: dict[str, np.ndarray] = {}
    for i, variable in enumerate(model.variables):
        arrays[f"model_{i}"] = np.asarray(variable.numpy())
    for i, variable in enumerate(model.optimizer.variables):
        arrays[f"optimizer_{i}"] = np.asarray(variable.numpy())
    for i, weight in enumerate(best_weights or []):
        arrays[f"best_{i}"] = weight
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    folder = state_dir(run)
    atomic.write_bytes(folder / CHECKPOINT, buffer.getvalue())
    atomic.write_json(folder / STATE_JSON, info)


def load_info(run: runs.Run) -> dict[str, Any]:
    """``state.json``, checked: the epoch reached, the history and the best-epoch record.

    Raises:
        UsageError: the run has no state (it completed, or never saved one).
        InputError: ``state.json`` is damaged or does not fit together.
    """
    if not has_state(run):
        raise UsageError(f"run {run.id} has no resumable state (no {runs.STATE}/ folder)",
                         hint="only interrupted or failed runs can be resumed")
    path = state_dir(run) / STATE_JSON
    try:
        info = runs.read_json(path)
    except InputError as exc:
        raise InputError(f"run {run.id} cannot be resumed: {exc.message}") from exc
    problem = _info_problem(info)
    if problem:
        raise InputError(f"run {run.id} cannot be resumed: {path} {problem}")
    return info


def _info_problem(info: Any) -> str | None:
    if not isinstance(info, dict):
        return "is not a JSON object"
    done, history, best = info.get("epochs_completed"), info.get("history"), info.get("best")
    if not isinstance(done, int) or isinstance(done, bool) or done < 0:
        return "has no valid 'epochs_completed'"
    if not isinstance(history, dict) or not isinstance(history.get("epoch"), list):
        return "has no valid 'history'"
    for key, values in history.items():
        if not isinstance(values, list) or len(values) != done or \
                not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return f"has a bad history entry {key!r} (expected {done} numbers)"
    if not isinstance(best, dict) or not {"value", "epoch", "wait"} <= set(best):
        return "has no valid 'best' record"
    return None


def check(run: runs.Run) -> dict[str, Any]:
    """Check ``state.json`` and ``checkpoint.npz`` before any TensorFlow work; returns the info.

    The checkpoint must be a readable NumPy archive holding ``model_*`` and ``optimizer_*``
    arrays; whether their shapes fit the model is checked again when restoring.

    Raises:
        UsageError: no state.  InputError: a damaged file (one line naming it).
    """
    info = load_info(run)
    path = state_dir(run) / CHECKPOINT
    try:
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            for key in names:
                data[key]  # reads every array: a truncated member fails here, not mid-restore
    except Exception as exc:  # zipfile.BadZipFile, ValueError, OSError, EOFError...
        raise InputError(f"run {run.id} cannot be resumed: {path} is damaged ({type(exc).__name__})") from exc
    if not any(n.startswith("model_") for n in names) or not any(n.startswith("optimizer_") for n in names):
        raise InputError(f"run {run.id} cannot be resumed: {path} holds no model or optimizer variables")
    return info


def restore(run: runs.Run, model: Any) -> list[np.ndarray] | None:
    """Load the checkpoint into a compiled ``model``; returns the best weights, if kept.

    Raises:
        InputError: the checkpoint does not fit the model (another model, a damaged file).
    """
    path = state_dir(run) / CHECKPOINT
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except Exception as exc:  # zipfile.BadZipFile, ValueError, OSError, EOFError...
        raise InputError(f"{path} is damaged ({type(exc).__name__})") from exc
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    _assign(model.variables, arrays, "model", path)
    _assign(model.optimizer.variables, arrays, "optimizer", path)
    best = [arrays[f"best_{i}"] for i in range(len(model.weights)) if f"best_{i}" in arrays]
    return best or None


def _assign(variables: list[Any], arrays: dict[str, np.ndarray], prefix: str, path: Path) -> None:
    stored = sorted((k for k in arrays if k.startswith(prefix + "_")), key=lambda k: int(k.split("_")[1]))
    if len(stored) != len(variables):
        raise InputError(f"{path} holds {len(stored)} {prefix} variables, the model has {len(variables)}")
    for variable, key in zip(variables, stored):
        value = arrays[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise InputError(f"{path}: {key} has shape {value.shape}, the model wants {tuple(variable.shape)}")
        variable.assign(value)


def clear(run: runs.Run) -> None:
    """Remove the state once the run completed."""
    shutil.rmtree(state_dir(run), ignore_errors=True)
