"""SIGTERM ends a command the way Ctrl-C does; light enough for the Typer-free predict entry."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from digitkit._internal import interrupts


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    """SIGTERM ends a command like Ctrl-C: "interrupted", exit 130, nothing half-written.

    The KeyboardInterrupt unwinds through the same ``finally`` blocks and atomic writes as
    Ctrl-C does. A second SIGTERM while unwinding ends the process at once (exit 143).
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    interrupts.note()
    raise KeyboardInterrupt


def _interrupt(signum: int, frame: Any) -> None:
    """Ctrl-C as Python's own handler does it, and noted (see :mod:`digitkit._internal.interrupts`)."""
    interrupts.note()
    raise KeyboardInterrupt


def _quiet_swallowed_interrupt(unraisable: Any) -> None:
    """No "Exception ignored in ..." traceback for a noted Ctrl-C Python could not raise: the
    command still ends as interrupted (see :func:`sigterm_as_interrupt`)."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and interrupts.received():
        return
    sys.__unraisablehook__(unraisable)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt; the previous handlers come back after.

    Both SIGTERM and Ctrl-C are noted as well as raised: when Python swallowed the
    KeyboardInterrupt (inside a GC callback), the next atomic write refuses to commit, and a
    block that ends normally still ends as interrupted. Restoring matters when the CLI is
    called from Python (tests, notebooks): the handlers must not outlive the command. A
    SIGINT that is ignored (a background job) stays ignored.
    """
    interrupts.clear()
    previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)
    previous_hook, sys.unraisablehook = sys.unraisablehook, _quiet_swallowed_interrupt
    try:
        yield
        interrupts.check()  # a swallowed interrupt: the command still ends as interrupted
    finally:
        signal.signal(signal.SIGTERM, previous)
        if previous_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous_int)
        sys.unraisablehook = previous_hook
        interrupts.clear()


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
