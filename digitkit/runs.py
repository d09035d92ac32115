"""Run directories: the unit everything after training works from.

Layout of ``<home>/runs/<run-id>/`` (see docs/runs.md)::

    manifest.json     what was trained, how, on what, with which versions; status
    model.keras       the final model (Keras 3 format, loads in safe mode)
    best.keras        best validation checkpoint, when validating
    model.tflite      LiteRT export used by fast `predict`
    history.json/csv  per-epoch metrics
    metrics.json      final metrics on the test split
    evaluation.json   written by `digitkit evaluate`; predictions.npz beside it
    state/            resumable training state, removed when a run completes

Every file is written through :mod:`digitkit.atomic`.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from digitkit import atomic, home
from digitkit.errors import InputError, UsageError

MANIFEST = "manifest.json"
MODEL = "model.keras"
BEST = "best.keras"
TFLITE = "model.tflite"
HISTORY_JSON = "history.json"
HISTORY_CSV = "history.csv"
METRICS = "metrics.json"
EVALUATION = "evaluation.json"
PREDICTIONS = "predictions.npz"
STATE = "state"

# Suffixes that make an argument a file path even when the file does not exist, so the
# user hears "missing file" rather than "unknown model".
MODEL_FILE_SUFFIXES = {".keras", ".h5", ".hdf5", ".tflite", ".pb", ".onnx", ".pt", ".pth", ".zip"}
RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[a-z0-9._-]+-[0-9a-f]{4}$")


@dataclass(frozen=True)
class Run:
    """A run directory on disk."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    @property
    def manifest(self) -> dict[str, Any]:
        return read_json(self.path / MANIFEST)

    def read(self, name: str) -> dict[str, Any] | None:
        """A JSON file of the run, or ``None`` when it was not written."""
        path = self.path / name
        return read_json(path) if path.exists() else None

    def write(self, name: str, data: Any) -> None:
        atomic.write_json(self.path / name, data)

    def trained_dataset(self) -> str | None:
        """The dataset this run really trained on, to load its splits again.

        The bundled sample when the default dataset fell back to it (so an offline machine
        reads what it trained on), else the name the user gave; ``None`` for the default.
        """
        info = self.manifest.get("dataset") or {}
        if "bundled" in str(info.get("source", "")):
            return "sample"
        dataset = info.get("requested", info.get("name"))
        return dataset if isinstance(dataset, str) and dataset else None

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        data = self.manifest
        data.update(fields)
        self.write(MANIFEST, data)
        return data


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not readable JSON: {exc}") from exc


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def create_run(model_name: str, manifest: dict[str, Any], root: Path | None = None) -> Run:
    """Make a new run directory with a unique id and write its first manifest.

    The directory is created exclusively, so two fits started at once never share one.
    """
    root = Path(root) if root is not None else home.runs_dir()
    safe_name = re.sub(r"[^a-z0-9._-]+", "-", model_name.lower()).strip("-") or "model"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only or full home: one line, not a traceback
        raise atomic._explain(exc, root) from exc
    for _ in range(100):
        run_id = f"{stamp}-{safe_name}-{secrets.token_hex(2)}"
        try:
            (root / run_id).mkdir()
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise atomic._explain(exc, root / run_id) from exc
    else:  # pragma: no cover - 100 clashes of 16 random bits in one second
        raise UsageError(f"could not create a unique run directory under {root}")
    run = Run(root / run_id)
    run.write(MANIFEST, {"id": run_id, "model": model_name, "status": "running", "started": now_iso(), **manifest})
    return run


def list_runs(root: Path | None = None) -> list[Run]:
    """Runs under the home, oldest first; folders without a readable manifest are skipped."""
    root = Path(root) if root is not None else home.runs_dir()
    if not root.is_dir():
        return []
    runs = [Run(p) for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file()]
    return sorted(runs, key=lambda r: r.id)


def get_run(run_id: str, root: Path | None = None) -> Run:
    """The run with this id, or a unique id prefix.

    Raises:
        UsageError: no run, or an ambiguous prefix.
    """
    runs = list_runs(root)
    exact = [r for r in runs if r.id == run_id]
    if exact:
        return exact[0]
    matches = [r for r in runs if r.id.startswith(run_id)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(f"run id {run_id!r} is ambiguous: {', '.join(r.id for r in matches[:5])}")
    raise UsageError(f"no run {run_id!r}", hint="see `digitkit runs`")


def remove_run(run_id: str, root: Path | None = None) -> Run:
    run = get_run(run_id, root)
    shutil.rmtree(run.path)
    return run


def latest_run_of(model_name: str, root: Path | None = None) -> Run | None:
    """The newest completed run of a model, or ``None``; runs with unreadable manifests are skipped.

    Kept for callers; model references are resolved in :mod:`digitkit.inference.refs`.
    """
    from digitkit.inference.refs import latest_run_of as latest

    return latest(model_name, root)


def resolve_model(ref: str, root: Path | None = None) -> Any:
    """Resolve a MODEL argument; see :func:`digitkit.inference.refs.resolve` (kept for callers)."""
    from digitkit.inference.refs import resolve

    return resolve(ref, root)
