"""`digitkit plugin new`: scaffold a model plugin project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="Scaffold a new model plugin.", no_args_is_help=True)


@app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="The model's name (lower case), e.g. lenet5.", show_default=False)],
    directory: Annotated[
        Optional[Path],
        typer.Option("--dir", help="Project folder to create (default ./digitkit-NAME); must be new or empty.",
                     show_default=False),
    ] = None,
) -> None:
    """Create a plugin project that installs with pip and passes its own tests at once.

    It holds a pyproject with the `digitkit.models` entry point, a model module with a
    spec, a test that runs digitkit's conformance kit, and a README.
    """
    import os

    from rich.markup import escape

    from digitkit.plugins.scaffold import new_plugin
    from digitkit.render.console import err, out

    result = new_plugin(name, directory)
    console = out()
    for relative in result.files:
        console.print(escape(str(result.path / relative)), soft_wrap=True)
    # Relative to here when it is below here: each command then fits a line (it folded mid-command).
    where = os.path.relpath(result.path)
    folder = escape(where if not where.startswith("..") else str(result.path))
    status = err()
    status.print(f"[green]created[/] {escape(result.distribution)} in {folder}", soft_wrap=True)
    for note in result.notes:
        status.print(f"[yellow]warning:[/] {escape(note)}")
    status.print(f"next:\n  pip install -e {folder}\n  digitkit plugins check {escape(name)}\n"
                 f"  cd {folder} && pytest", soft_wrap=True)
