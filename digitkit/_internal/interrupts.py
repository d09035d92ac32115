"""Remember a Ctrl-C or SIGTERM even when Python swallows the KeyboardInterrupt it raised.

A signal's KeyboardInterrupt is raised wherever the interpreter happens to be. When that is
inside a weakref callback or a ``__del__`` (matplotlib's caches run many while a report is
drawn), Python prints "Exception ignored in ..." and carries on: the command would then
finish and exit 0 as if the user had not pressed Ctrl-C. The CLI's signal handlers
(:mod:`digitkit.cli.signals`) note every signal here, and the commit point of every atomic
write (:mod:`digitkit._internal.atomic`) checks it, so a swallowed interrupt still stops the
next file from being replaced.
"""

from __future__ import annotations

_received = False


def note() -> None:
    """A signal arrived (called by the signal handlers)."""
    global _received
    _received = True


def clear() -> None:
    """Forget it (a new command starts, or the interrupt was reported)."""
    global _received
    _received = False


def received() -> bool:
    return _received


def check() -> None:
    """Raise ``KeyboardInterrupt`` when a signal arrived and was not acted on yet."""
    if _received:
        raise KeyboardInterrupt
