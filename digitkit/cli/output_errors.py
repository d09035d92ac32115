"""Stdout that cannot be written (a full disk, a closed pipe): one line, never a traceback.

``digitkit predict --json IMG > /dev/full`` and ``digitkit runs | head -1`` used to end in an
``OSError`` traceback, or in Python's "Exception ignored ... flush" at exit. Every file
digitkit writes itself goes through :mod:`digitkit._internal.atomic`, which already turns
these errors into :class:`~digitkit.errors.DigitkitError`; an ``OSError`` with one of
:data:`WRITE_ERRNOS` that reaches the CLI's edge comes from the standard streams.
"""

from __future__ import annotations

import errno
import os
import sys

from digitkit.errors import UnavailableError

WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EPIPE})
_WHY = {errno.EPIPE: "the reader closed the pipe", errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded", errno.EFBIG: "file too large", errno.EIO: "input/output error"}


class OutputError(UnavailableError):
    """The output (stdout) could not be written: a full device, a closed pipe."""


def is_output_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS


def output_error(exc: OSError) -> OutputError:
    """The one-line error for ``exc``; stdout is pointed at the null device from here on, so
    nothing left in its buffer fails again when Python flushes it at exit."""
    silence_stdout()
    return OutputError(f"cannot write to stdout: {_WHY.get(exc.errno, exc.strerror or 'write failed')}")


def silence_stdout() -> None:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # not a real file (tests' captured stdout)
        pass
    try:
        sys.stdout.flush()  # what the failed write left in the buffer now goes nowhere
    except (OSError, ValueError):
        pass


def flush_stdout() -> None:
    """Flush stdout now, inside the error edge, rather than at interpreter exit."""
    sys.stdout.flush()
