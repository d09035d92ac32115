"""`digitkit evaluate` (not built yet)."""

from __future__ import annotations

from digitkit.errors import UsageError


def command() -> None:
    """Not available yet in this version."""
    raise UsageError("`digitkit evaluate` is not available yet")
