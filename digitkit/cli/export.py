"""`digitkit export` (not built yet)."""

from __future__ import annotations

from digitkit.errors import UsageError


def command() -> None:
    """Not available yet in this version."""
    raise UsageError("`digitkit export` is not available yet")
