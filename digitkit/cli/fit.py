"""`digitkit fit` (not built yet)."""

from __future__ import annotations

from digitkit.errors import UsageError


def command() -> None:
    """Not available yet in this version."""
    raise UsageError("`digitkit fit` is not available yet")
