"""`digitkit list-models`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import JsonFlag


def command(
    pattern: Annotated[
        Optional[str], typer.Argument(help="Filter: a wildcard pattern ('dense*') or a substring.",
                                      show_default=False)
    ] = None,
    wide: Annotated[bool, typer.Option("--wide", "-w", help="Show each model's training recipe and provider version.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """List the installed models, built-in and from plugins, one line each."""
    from digitkit.cli.list_models_output import run

    run(pattern, wide, json_output)
