"""Finding runs under a home: every run folder, readable or not, and half-removed trash.

A folder under ``runs/`` is a run whether or not its manifest can be read: an unreadable
run is listed with the reason (so it can be removed), never skipped silently and never
fatal to the others. Folders whose names start with ``.`` are digitkit's own (the trash).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from digitkit import home
from digitkit.runs.directory import Run, RunUnreadable

TRASH = ".trash"


@dataclass(frozen=True)
class Listing:
    """What ``runs/`` holds: readable runs, unreadable runs with their reason, trash left over."""

    readable: list[Run]
    unreadable: list[tuple[Run, str]]
    trash: list[Path]


def runs_root(root: Path | None = None) -> Path:
    return Path(root) if root is not None else home.runs_dir()


def list_runs(root: Path | None = None) -> list[Run]:
    """Every run folder under the home, oldest first, readable or not (see :meth:`Run.problem`)."""
    folder = runs_root(root)
    try:
        entries = list(folder.iterdir()) if folder.is_dir() else []
    except OSError:  # an unreadable runs folder lists as empty; writing there reports the cause
        return []
    runs = [Run(p) for p in entries if not p.name.startswith(".") and (p.is_dir() or p.is_symlink())]
    return sorted(runs, key=lambda r: r.id)


def readable_runs(root: Path | None = None) -> list[Run]:
    """Runs whose manifest reads and validates, oldest first."""
    return [run for run in list_runs(root) if run.problem() is None]


def list_all(root: Path | None = None) -> Listing:
    """Readable runs, unreadable runs with their reason, and trash folders left by a failed removal."""
    readable, unreadable = [], []
    for run in list_runs(root):
        problem = run.problem()
        if problem is None:
            readable.append(run)
        else:
            unreadable.append((run, problem))
    return Listing(readable, unreadable, trash_folders(root))


def trash_folders(root: Path | None = None) -> list[Path]:
    """Runs renamed into the trash whose deletion did not finish."""
    trash = runs_root(root) / TRASH
    try:
        return sorted(trash.iterdir()) if trash.is_dir() else []
    except OSError:
        return []


def latest_run_of(model_name: str, root: Path | None = None, *, completed: bool = True) -> Run | None:
    """The newest run of a model (completed, with its model file, unless ``completed=False``).

    Unreadable runs are skipped; model names compare case-insensitively.
    """
    wanted = model_name.lower()
    candidates = []
    for run in list_runs(root):
        try:
            manifest = run.load_manifest()
        except RunUnreadable:
            continue
        if manifest.model.lower() != wanted:
            continue
        if completed and not (manifest.completed and run.model_path.exists()):
            continue
        candidates.append(run)
    return candidates[-1] if candidates else None
