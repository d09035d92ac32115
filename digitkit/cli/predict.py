"""`digitkit predict` (not built yet)."""

from __future__ import annotations

from digitkit.errors import UsageError


def command() -> None:
    """Not available yet in this version."""
    raise UsageError("`digitkit predict` is not available yet")
