"""Atomic file writes: a temp file in the same folder, fsync, then ``os.replace``.

A crash, Ctrl-C or full disk leaves either the old file or the new one, never half of
either, and no temp file behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from digitkit._internal import interrupts
from digitkit.errors import DigitkitError

TEMP_PREFIX = ".digitkit-tmp-"


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before threads exist.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _file_mode(target: Path) -> int:
    """The mode the new file gets: the old file's, or what ``open()`` would have given."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not supported everywhere (e.g. Windows); the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_in_the_way(target: Path) -> Path | None:
    """The nearest ancestor of ``target`` that exists as something other than a folder."""
    for parent in Path(target).parents:
        if parent.exists() or parent.is_symlink():
            return None if parent.is_dir() else parent
    return None


def _explain(exc: OSError, target: Path) -> DigitkitError:
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) and _file_in_the_way(target) is not None:
        blocker = _file_in_the_way(target)
        return DigitkitError(f"could not write {target}: {blocker} is a file, not a folder",
                             hint="choose an output folder that is not inside a file")
    if exc.errno == errno.ENOSPC:
        why = "the disk is full"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "the folder is not writable"
    else:
        why = exc.strerror or str(exc)
    return DigitkitError(f"could not write {target}: {why}", hint="the previous file, if any, is unchanged")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path next to ``target``; on success it replaces ``target``.

    Args:
        target: final file path.
        suffix: temp file suffix (Keras insists on ``.keras``); defaults to the target's.

    Raises:
        DigitkitError: the folder is not writable or the disk is full.
    """
    target = Path(target)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix if suffix is not None else target.suffix,
                                    dir=folder)
        os.close(fd)
    except OSError as exc:
        raise _explain(exc, target) from exc
    temp = Path(name)
    try:
        # mkstemp makes the file 0600; an artefact should be readable like any other file.
        os.chmod(temp, _file_mode(target))
        yield temp
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        interrupts.check()  # a Ctrl-C Python swallowed (in a GC callback) still stops the commit
        os.replace(temp, target)
        _fsync_dir(folder)
    except OSError as exc:
        raise _explain(exc, target) from exc
    finally:
        with contextlib.suppress(OSError):  # gone after os.replace; never hide the real error
            temp.unlink()


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    """Atomically write ``data`` to ``target``."""
    with atomic_path(target) as temp:
        temp.write_bytes(data)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    """Atomically write UTF-8 ``text`` to ``target``."""
    write_bytes(target, text.encode("utf-8"))


def write_json(target: str | os.PathLike[str], data: Any) -> None:
    """Atomically write ``data`` as indented JSON (NaN refused: it is not JSON)."""
    write_text(target, json.dumps(data, indent=2, sort_keys=False, allow_nan=False, default=str) + "\n")
