"""`digitkit plugin new` (not built yet)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Scaffold a new model plugin.", no_args_is_help=True)
