"""The two consoles: data on stdout (so ``--json | jq`` works), status on stderr.

Consoles are made per call so that ``NO_COLOR``, ``COLUMNS`` and redirected streams are
read when output happens, not at import.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

__all__ = ["out", "err", "escape", "print_json", "status"]


def out() -> Console:
    """Console for results (stdout)."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=False)


def err() -> Console:
    """Console for progress, notes and errors (stderr)."""
    return Console(file=sys.stderr, highlight=False, stderr=True)


def print_json(data: Any) -> None:
    """Plain JSON on stdout: no colour, no wrapping, safe to pipe."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")
    sys.stdout.flush()


def status(message: str) -> None:
    """One status line on stderr; ``message`` may hold markup, user text must be escaped."""
    err().print(message)
