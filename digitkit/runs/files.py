"""The files of a run directory: their names, bounded reading, and one validator each.

Every JSON file a run holds is read through :func:`read_json` (bounded, regular files only)
and checked by its validator before anyone uses it, so a damaged or foreign file gives one
message naming the file and the way out instead of a ``KeyError`` deep in a report.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any, Callable

from digitkit.errors import InputError

MANIFEST = "manifest.json"
MODEL = "model.keras"
BEST = "best.keras"
TFLITE = "model.tflite"
HISTORY_JSON = "history.json"
HISTORY_CSV = "history.csv"
METRICS = "metrics.json"
EVALUATION = "evaluation.json"
PREDICTIONS = "predictions.npz"
NUMBERS_EVALUATION = "numbers-evaluation.json"
NUMBERS_PICTURES = "numbers-mistakes.npz"
STATE = "state"
STATE_JSON = "state/state.json"
LOCK = ".lock"

# Run files are small (a manifest is ~3 KB, a 1,000-epoch history ~200 KB); a cap keeps a
# hostile or runaway file from filling memory when a listing reads every run.
MAX_JSON_BYTES = 16 << 20


class RunFileError(InputError):
    """A file of a run that is missing, unreadable, or not what digitkit wrote."""


def read_json(path: str | os.PathLike[str], *, limit: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON file, refusing non-regular files and files over ``limit`` bytes.

    Raises:
        InputError: the file is missing, not a regular file, too large or not JSON.
    """
    path = Path(path)
    return parse_json(read_bytes(path, limit=limit), path)


def read_bytes(path: Path, *, limit: int = MAX_JSON_BYTES) -> bytes:
    """A regular file's bytes, at most ``limit`` of them (see :func:`read_json`)."""
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise RunFileError(f"{path} is not a regular file")
            data = handle.read(limit + 1)
    except FileNotFoundError as exc:
        raise RunFileError(f"{path} does not exist") from exc
    except IsADirectoryError as exc:
        raise RunFileError(f"{path} is not a regular file") from exc
    except OSError as exc:
        raise RunFileError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise RunFileError(f"{path} is larger than {limit >> 20} MiB: not a file digitkit wrote")
    return data


def parse_json(data: bytes, path: Path) -> Any:
    """``data`` (read from ``path``) as JSON."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RunFileError(f"{path} is not readable JSON: {exc}") from exc


# -- validators: each returns None when the data is usable, else what is wrong --------------------

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def history_problem(data: Any) -> str | None:
    """``{"epoch": [1, 2, ...], "loss": [...], ...}``: lists of numbers, all as long as ``epoch``."""
    if not isinstance(data, dict):
        return f"expected an object, found {type(data).__name__}"
    epochs = data.get("epoch")
    if not isinstance(epochs, list) or not all(isinstance(e, int) and not isinstance(e, bool) for e in epochs):
        return "'epoch' must be a list of integers"
    for key, values in data.items():
        if not isinstance(values, list):
            return f"{key!r} must be a list"
        if len(values) != len(epochs):
            return f"{key!r} has {len(values)} values for {len(epochs)} epochs"
        if not all(_is_number(v) or v is None for v in values):
            return f"{key!r} must hold numbers"
    return None


def metrics_problem(data: Any) -> str | None:
    """``{"loss": 0.1, "accuracy": 0.97, ...}``: numbers by name."""
    if not isinstance(data, dict):
        return f"expected an object, found {type(data).__name__}"
    for key, value in data.items():
        if not _is_number(value):
            return f"{key!r} must be a number"
    if "accuracy" in data and not (0 <= data["accuracy"] <= 1 or math.isnan(data["accuracy"])):
        return "'accuracy' must lie between 0 and 1"
    return None


def evaluation_problem(data: Any) -> str | None:
    """What `digitkit evaluate` writes: a schema tag, the dataset it read, and scores."""
    if not isinstance(data, dict):
        return f"expected an object, found {type(data).__name__}"
    if not isinstance(data.get("dataset"), dict):
        return "'dataset' must be an object"
    for key in ("accuracy", "loss"):
        if key in data and not _is_number(data[key]):
            return f"{key!r} must be a number"
    return None


def numbers_evaluation_problem(data: Any) -> str | None:
    """What `digitkit evaluate --numbers` writes: a schema tag, the set it read, and scores."""
    if not isinstance(data, dict):
        return f"expected an object, found {type(data).__name__}"
    for key in ("numbers", "metrics"):
        if not isinstance(data.get(key), dict):
            return f"{key!r} must be an object"
    if not isinstance(data.get("mistakes", []), list):
        return "'mistakes' must be a list"
    return None


def state_problem(data: Any) -> str | None:
    """The resumable-training state: epochs done, the history so far, the best value seen."""
    if not isinstance(data, dict):
        return f"expected an object, found {type(data).__name__}"
    done = data.get("epochs_completed")
    if not isinstance(done, int) or isinstance(done, bool) or done < 0:
        return "'epochs_completed' must be a non-negative integer"
    if "history" in data and history_problem(data["history"]) is not None:
        return f"'history': {history_problem(data['history'])}"
    if "best" in data and not isinstance(data["best"], dict):
        return "'best' must be an object"
    return None


VALIDATORS: dict[str, Callable[[Any], str | None]] = {
    HISTORY_JSON: history_problem,
    METRICS: metrics_problem,
    EVALUATION: evaluation_problem,
    NUMBERS_EVALUATION: numbers_evaluation_problem,
    STATE_JSON: state_problem,
}


def way_out(run_id: str, name: str) -> str:
    """What a user can do about a damaged file of a run."""
    if name == STATE_JSON:
        return f"the run cannot be resumed; remove it with `digitkit runs rm {run_id}`"
    if name == EVALUATION:
        return f"delete it and run `digitkit evaluate {run_id}` again"
    if name == NUMBERS_EVALUATION:
        return f"delete it and run `digitkit evaluate {run_id} --numbers DIR` again"
    return f"delete the file, or remove the run with `digitkit runs rm {run_id}`"


def read_checked(folder: Path, run_id: str, name: str) -> Any:
    """Read the run file ``name`` and validate it with its validator (when it has one).

    Raises:
        RunFileError: one line naming the run, the file, what is wrong and the way out.
    """
    path = folder / name
    try:
        data = read_json(path)
    except RunFileError as exc:
        raise RunFileError(f"run {run_id}: {name} is damaged ({_short(exc.message, path)})",
                           hint=way_out(run_id, name)) from exc
    validator = VALIDATORS.get(name)
    problem = validator(data) if validator else None
    if problem:
        raise RunFileError(f"run {run_id}: {name} is damaged ({problem})", hint=way_out(run_id, name))
    return data


def _short(message: str, path: Path) -> str:
    """The reason without the full path (the message already names the run and file)."""
    return message.replace(str(path) + " ", "", 1)
