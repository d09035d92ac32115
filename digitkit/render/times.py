"""Times as people read them: date, time and always the time zone."""

from __future__ import annotations

from typing import Any


def fmt_time(value: Any) -> str:
    """An ISO time as '2026-11-28 07:54:40 UTC' (or 'UTC+01:00'): always with its time zone.

    A time without a zone (older runs) is taken as this machine's local time and labelled so.
    """
    from datetime import datetime, timedelta

    if not isinstance(value, str) or not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.astimezone()
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        zone = "UTC"
    else:
        minutes = int(offset.total_seconds() // 60)
        zone = f"UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return f"{moment:%Y-%m-%d %H:%M:%S} {zone}"
