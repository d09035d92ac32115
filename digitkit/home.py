"""Where digitkit keeps its runs and data: the digitkit home.

``~/.digitkit`` unless ``DIGITKIT_HOME`` (or a command's ``--home``) says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "DIGITKIT_HOME"


def home_dir() -> Path:
    """The digitkit home; not created until something is written there."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".digitkit"


def runs_dir() -> Path:
    """Folder holding one sub-folder per training run."""
    return home_dir() / "runs"


def data_dir() -> Path:
    """Folder holding prepared datasets (tensorflow-datasets' ``data_dir``)."""
    return home_dir() / "data"


def set_home(path: str | os.PathLike[str] | None) -> None:
    """Point this process (and its children) at another home, as ``--home`` does."""
    if path is not None:
        os.environ[HOME_ENV] = str(Path(path).expanduser().resolve())


MIN_FREE_ENV = "DIGITKIT_MIN_FREE_MB"
DEFAULT_MIN_FREE_MB = 64  # a run of the largest zoo model writes ~5 MB; leave room for data


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest existing ancestor (a home is created on first write)."""
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return path


def home_problem(*, write: bool) -> str | None:
    """Why the home cannot be used, or ``None``; a few ``stat`` calls, no imports.

    Args:
        write: the command will write there (fit, bench): also check it is writable and
            has :data:`DEFAULT_MIN_FREE_MB` MB free (``DIGITKIT_MIN_FREE_MB`` changes it).
    """
    home = home_dir()
    where = f"the digitkit home {home}" + (f" (${HOME_ENV})" if os.environ.get(HOME_ENV) else "")
    existing = _nearest_existing(home)
    if existing.is_symlink() and not existing.exists():
        return f"{where} is a broken symbolic link"
    if not existing.is_dir():
        return f"{where} is {'inside ' + str(existing) + ', ' if existing != home else ''}a file, not a folder"
    for sub in (runs_dir(), data_dir()):
        if sub.exists() and not sub.is_dir():
            return f"{sub} in {where} is a file, not a folder"
    if not write:
        return None
    if not _writable(existing):
        return f"{where} is not writable" + (f" ({existing} is read-only)" if existing != home else "")
    free_mb = _free_mb(existing)
    need = _min_free_mb()
    if free_mb is not None and free_mb < need:
        return f"{where} has only {free_mb:.0f} MB free (digitkit needs {need} MB to write a run)"
    return None


def _writable(folder: Path) -> bool:
    # os.access says yes to root on a read-only mount; creating a file is the real test
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".digitkit-probe-"):
            return True
    except OSError:
        return False


def _free_mb(folder: Path) -> float | None:
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # statvfs is POSIX-only
        return None
    return stats.f_bavail * stats.f_frsize / (1 << 20)


def _min_free_mb() -> int:
    from digitkit._internal.settings import whole_number

    return whole_number(MIN_FREE_ENV, DEFAULT_MIN_FREE_MB)


def check_home(*, write: bool) -> Path:
    """Refuse, in one line, a home that is a file, unwritable or full, before any work starts.

    Args:
        write: the command will write to the home (see :func:`home_problem`).

    Returns:
        The home folder.

    Raises:
        UsageError: saying what is wrong with the home and how to choose another.
    """
    from digitkit.errors import UsageError

    problem = home_problem(write=write)
    if problem:
        raise UsageError(problem, hint=f"point ${HOME_ENV} or --home at a writable folder")
    return home_dir()


# Commands that read the home, and those that also write runs there (checked up front by
# the CLI). `evaluate` and `export` may write into a run but still work in a read-only home.
READS_HOME = frozenset({"runs", "evaluate", "predict", "export", "report", "datasets", "serve"})
WRITES_HOME = frozenset({"fit", "bench"})


def check_for_command(command: str | None) -> None:
    """The up-front home check for a CLI subcommand (a no-op for those that never touch it)."""
    if command in WRITES_HOME:
        check_home(write=True)
    elif command in READS_HOME:
        check_home(write=False)
