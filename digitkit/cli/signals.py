"""SIGTERM ends a command the way Ctrl-C does; light enough for the Typer-free predict entry."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    """SIGTERM ends a command like Ctrl-C: "interrupted", exit 130, nothing half-written.

    The KeyboardInterrupt unwinds through the same ``finally`` blocks and atomic writes as
    Ctrl-C does. A second SIGTERM while unwinding ends the process at once (exit 143).
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt; the previous handler comes back after.

    Restoring matters when the CLI is called from Python (tests, notebooks): the handler must
    not outlive the command.
    """
    previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted() -> int:
    """Say ``interrupted`` on stderr and return exit code 130, for the outermost ``except KeyboardInterrupt``.

    Plain text on purpose: the signal may have come while rich was being imported.
    """
    from digitkit.errors import EXIT_INTERRUPTED

    try:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed or gone: the exit code still says it
        pass
    return EXIT_INTERRUPTED
