"""`digitkit runs` (not built yet)."""

from __future__ import annotations

import typer

app = typer.Typer(help="List, show and remove training runs.", no_args_is_help=False)
