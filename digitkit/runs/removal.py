"""Removing runs so that a failure can never leave a half-run that nobody sees.

A run is first *renamed* into ``runs/.trash/`` (one atomic step on the same file system),
then deleted. If the rename fails (read-only home), nothing was touched. If the deletion
fails part-way (an immutable file, a permission), what is left is a clearly named trash
folder: `digitkit runs` reports it and `digitkit runs rm --purge` finishes the job. A run
that is a symbolic link is removed as a link; its target is never touched.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from digitkit.errors import DigitkitError
from digitkit.runs.directory import Run
from digitkit.runs.listing import TRASH, runs_root, trash_folders
from digitkit.runs.naming import get_run

PURGE_HINT = "finish with `digitkit runs rm --purge`"


def _os_reason(exc: OSError) -> str:
    if exc.errno in (errno.EROFS,):
        return "the home is on a read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def remove_run(ref: str | Run, root: Path | None = None) -> Run:
    """Remove a run by name (see :func:`digitkit.runs.get_run`) or as a :class:`Run`.

    Raises:
        UsageError: an empty or ambiguous name (candidates listed), no such run, or a run
            another live process holds locked (a fit still writing it).
        DigitkitError: the run could not be moved to the trash (it is intact), or the trash
            folder could not be deleted (it is named, and ``runs rm --purge`` finishes).
    """
    run = ref if isinstance(ref, Run) else get_run(ref, root)
    from digitkit.runs.locking import RunLocked, holder

    pid = holder(run)
    if pid is not None and pid != os.getpid():
        raise RunLocked(f"run {run.id} is in use by process {pid}: not removed",
                        hint="wait for it to finish, or stop it first")
    if run.path.is_symlink():
        try:
            run.path.unlink()  # the link only; the folder it points at is the user's
        except OSError as exc:
            raise DigitkitError(f"could not remove the link {run.path}: {_os_reason(exc)}; nothing was removed"
                                ) from exc
        return run
    trash_dir = run.path.parent / TRASH
    import secrets  # here, not at import: every predict start loads this module

    trash = trash_dir / f"{run.id}.{secrets.token_hex(3)}"
    try:
        trash_dir.mkdir(exist_ok=True)
        os.rename(run.path, trash)
    except OSError as exc:
        raise DigitkitError(f"could not remove run {run.id}: {_os_reason(exc)}; nothing was removed",
                            hint=f"the run is intact in {run.path}") from exc
    _delete(trash, run.id)
    _tidy(trash_dir)
    return run


def _delete(trash: Path, run_id: str) -> None:
    try:
        shutil.rmtree(trash)
    except OSError as exc:
        raise DigitkitError(f"run {run_id} was moved to {trash} but could not be deleted completely "
                            f"({_os_reason(exc)})", hint=PURGE_HINT) from exc


def _tidy(trash_dir: Path) -> None:
    try:
        trash_dir.rmdir()  # only when empty; a leftover from an earlier failure stays reported
    except OSError:
        pass


@dataclass
class PurgeResult:
    """What ``runs rm --purge`` deleted and what it could not."""

    removed: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def purge_trash(root: Path | None = None) -> PurgeResult:
    """Delete what failed removals left in the trash.

    Raises:
        DigitkitError: some trash could not be deleted (named, with the reason).
    """
    result = PurgeResult()
    for folder in trash_folders(root):
        try:
            if folder.is_symlink() or not folder.is_dir():
                folder.unlink()
            else:
                shutil.rmtree(folder)
            result.removed.append(folder)
        except OSError as exc:
            result.failed.append((folder, _os_reason(exc)))
    _tidy(runs_root(root) / TRASH)
    if result.failed:
        path, reason = result.failed[0]
        raise DigitkitError(f"could not delete {len(result.failed)} trash folder(s), first {path}: {reason}",
                            hint="fix the permission (or `chattr -i`) and run `digitkit runs rm --purge` again")
    return result


