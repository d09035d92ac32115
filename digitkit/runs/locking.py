"""A per-run lock: one writer at a time (``fit --resume``, ``evaluate`` saving into a run).

The lock is a file ``<run>/.lock`` created exclusively and holding the holder's pid. A
second writer is refused with one line naming that pid. A lock whose process is gone (a
killed fit) is stale and taken over, so a crash never leaves a run locked forever.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from digitkit.errors import UsageError
from digitkit.runs import files
from digitkit.runs.directory import Run


class RunLocked(UsageError):
    """Another live process holds the run's lock."""


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def holder(run: Run) -> int | None:
    """The pid holding the run's lock, or ``None`` when it is free (or the holder died)."""
    try:
        text = (run.path / files.LOCK).read_text(encoding="ascii", errors="replace")[:32].strip()
    except OSError:
        return None
    pid = int(text) if text.isdigit() else 0
    return pid if _alive(pid) else None


@contextlib.contextmanager
def lock(run: Run) -> Iterator[Run]:
    """Hold the run's lock for the ``with`` block.

    Raises:
        RunLocked: another live process holds it (the message names its pid).
    """
    path = run.path / files.LOCK
    for _attempt in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pid = holder(run)
            if pid is not None and pid != os.getpid():
                raise RunLocked(f"run {run.id} is in use by process {pid}",
                                hint="wait for it to finish, or stop it first") from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # stale: its holder is gone
            continue
        break
    else:  # pragma: no cover - another process took the stale lock between our two tries
        raise RunLocked(f"run {run.id} is in use by another process")
    try:
        os.write(fd, str(os.getpid()).encode("ascii"))
    finally:
        os.close(fd)
    try:
        yield run
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
