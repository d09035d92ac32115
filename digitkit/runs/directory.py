"""A run directory on disk and its creation.

Layout of ``<home>/runs/<run-id>/`` (see docs/runs.md)::

    manifest.json     what was trained, how, on what, with which versions; status
    model.keras       the final model (Keras 3 format, loads in safe mode)
    best.keras        best validation checkpoint, when validating
    model.tflite      LiteRT export used by fast `predict`
    history.json/csv  per-epoch metrics
    metrics.json      final metrics on the test split
    evaluation.json   written by `digitkit evaluate`; predictions.npz beside it
    state/            resumable training state, removed when a run completes

Every file is written through :mod:`digitkit._internal.atomic` and read through
:mod:`digitkit.runs.files` (bounded, validated).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from digitkit import home
from digitkit._internal import atomic
from digitkit.errors import UsageError
from digitkit.runs import files
from digitkit.runs.manifest import SCHEMA_VERSION, Manifest, ManifestError

RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[a-z0-9._-]+-[0-9a-f]{4}$")
# Manifests' bytes by path, with the identity of the file they came from (inode, mtime,
# size): listing the runs and then resolving one of them reads each manifest once. Every
# write goes through os.replace (a new inode), so a changed manifest is always read again.
_MANIFESTS: dict[Path, tuple[tuple[int, int, int], bytes]] = {}
_MANIFESTS_KEPT = 4096


def _manifest_bytes(path: Path) -> bytes:
    """The bytes of a manifest, read once per process while the file is unchanged.

    Raises:
        FileNotFoundError: there is no manifest.
        RunFileError: it is not a regular file, too large or unreadable.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError:
        return files.read_bytes(path)  # reports the cause
    key = (info.st_ino, info.st_mtime_ns, info.st_size)
    seen = _MANIFESTS.get(path)
    if seen is not None and seen[0] == key:
        return seen[1]
    data = files.read_bytes(path)
    if len(_MANIFESTS) >= _MANIFESTS_KEPT:
        _MANIFESTS.clear()
    _MANIFESTS[path] = (key, data)
    return data


class RunUnreadable(files.RunFileError):
    """A run whose manifest is missing, damaged or foreign: listed, never used."""


@dataclass(frozen=True)
class Run:
    """A run directory on disk."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def suffix(self) -> str:
        """The short random hash that ends the id (``20260101-120000-cnn-1a2b`` -> ``1a2b``)."""
        return self.id.rsplit("-", 1)[-1]

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def model_path(self) -> Path:
        return self.path / files.MODEL

    def load_manifest(self) -> Manifest:
        """The typed manifest (a fresh object each call; the file is read once per process
        while it stays the same file, see :func:`_manifest_bytes`).

        Raises:
            RunUnreadable: no manifest, or one that is damaged or from a newer digitkit.
        """
        path = self.path / files.MANIFEST
        try:
            return Manifest.from_dict(files.parse_json(_manifest_bytes(path), path))
        except FileNotFoundError:
            raise RunUnreadable(f"run {self.id} is unreadable: it has no {files.MANIFEST}",
                                hint=f"remove it with `digitkit runs rm {self.id}`") from None
        except (ManifestError, files.RunFileError) as exc:
            reason = exc.message.replace(str(path), files.MANIFEST)
            raise RunUnreadable(f"run {self.id} is unreadable: {reason}",
                                hint=f"remove it with `digitkit runs rm {self.id}`") from exc

    @property
    def manifest(self) -> dict[str, Any]:
        """The validated manifest as a dict (see :meth:`load_manifest`)."""
        return self.load_manifest().to_dict()

    def problem(self) -> str | None:
        """Why this run is unreadable, or ``None`` when its manifest is fine."""
        try:
            self.load_manifest()
        except RunUnreadable as exc:
            return exc.message.split(" is unreadable: ", 1)[-1]
        return None

    def read(self, name: str) -> Any | None:
        """A JSON file of the run, validated, or ``None`` when it was not written.

        Raises:
            RunFileError: the file exists but is damaged (one line naming it and the way out).
        """
        path = self.path / name
        if not path.exists() and not path.is_symlink():
            return None
        return files.read_checked(self.path, self.id, name)

    def write(self, name: str, data: Any) -> None:
        atomic.write_json(self.path / name, data)

    def trained_dataset(self) -> str | None:
        """The dataset this run really trained on, to load its splits again.

        The bundled sample when the default dataset fell back to it (so an offline machine
        reads what it trained on), else the name the user gave; ``None`` for the default.
        """
        info = self.load_manifest().dataset
        if "bundled" in str(info.get("source", "")):
            return "sample"
        dataset = info.get("requested", info.get("name"))
        return dataset if isinstance(dataset, str) and dataset else None

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        """Change some manifest fields and write it again atomically; returns the new manifest.

        Raises:
            RunUnreadable: the manifest on disk, or the one these fields would make, is invalid.
        """
        try:
            manifest = self.load_manifest().updated(**fields)
        except ManifestError as exc:
            raise RunUnreadable(f"run {self.id}: refusing to write an invalid manifest ({exc.message})") from exc
        data = manifest.to_dict()
        self.write(files.MANIFEST, data)
        return data


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def safe_model_name(model_name: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", model_name.lower()).strip("-") or "model"


def create_run(model_name: str, manifest: dict[str, Any] | Manifest, root: Path | None = None) -> Run:
    """Make a new run directory with a unique id and write its first manifest.

    The directory is created exclusively, so two fits started at once never share one.

    Args:
        model_name: registry name of the model.
        manifest: the manifest's other fields (a dict, as fit passes them, or a Manifest).
        root: the folder holding runs (default: the home's ``runs/``).

    Raises:
        DigitkitError: the folder cannot be created (read-only or full home), or the fields
            do not make a valid manifest.
    """
    root = Path(root) if root is not None else home.runs_dir()
    fields = manifest.to_dict() if isinstance(manifest, Manifest) else dict(manifest)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if root.exists() and not root.is_dir():
        raise UsageError(f"cannot make runs in {root}: it is a file, not a folder",
                         hint="give --out a folder (it is created if missing)")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only or full home: one line, not a traceback
        raise atomic._explain(exc, root) from exc
    import secrets  # here: only new runs need it, and it costs ~8 ms of every predict start

    for _ in range(100):
        run_id = f"{stamp}-{safe_model_name(model_name)}-{secrets.token_hex(2)}"
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
    first = {"status": "running", "started": now_iso(), **fields, "id": run_id, "model": model_name,
             "schema_version": SCHEMA_VERSION}
    try:
        checked = Manifest.from_dict(first)
    except ManifestError as exc:
        (root / run_id).rmdir()
        raise UsageError(f"cannot start a run of {model_name!r}: {exc.message}") from exc
    run.write(files.MANIFEST, checked.to_dict())
    return run
