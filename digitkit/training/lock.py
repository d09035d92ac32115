"""One writer per run: ``fit`` holds ``<run>/.lock`` while it trains or resumes a run.

The lock is an advisory ``flock`` on the file, so the kernel releases it when the holder
exits for any reason (crash, kill -9): no stale lock ever needs clearing by hand. The file
holds the holder's pid and host, for the refusal message. Where ``fcntl`` does not exist
(Windows) runs are not locked.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Iterator

from digitkit.errors import UsageError

LOCK_FILE = ".lock"


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()[:200]
    except OSError:
        text = ""
    pid, _, host = text.partition("@")
    if not pid:
        return "another process"
    return f"process {pid}" + (f" on {host}" if host and host != socket.gethostname() else "")


@contextlib.contextmanager
def hold(run_path: Path, run_id: str) -> Iterator[None]:
    """Hold the run's lock for the ``with`` block.

    Raises:
        UsageError: another process holds it (the message names its pid).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = Path(run_path) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UsageError(f"run {run_id} is being trained by {_holder(path)}",
                             hint="wait for it to finish, or stop that process first") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}@{socket.gethostname()}\n".encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
