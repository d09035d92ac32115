"""`digitkit read`: the whole number in each picture, every digit found and read in order.

The options are declared once, without Typer, in :mod:`digitkit.cli.read_options` (the fast
entry of :mod:`digitkit.cli.entry` reads the same table); :mod:`digitkit.cli.read_output`
does the work.
"""

from __future__ import annotations

from typing import Annotated, Any, List

import typer

from digitkit.cli.declared import apply
from digitkit.cli.read_options import OPTIONS


def _paths(
    paths: Annotated[List[str], typer.Argument(
        help="Pictures, folders (searched recursively), glob patterns, or - for a picture on stdin.",
        show_default=False, metavar="PICTURE")],
) -> None: ...


def command(paths: List[str], **options: Any) -> None:
    """Read the whole number in pictures of handwritten digits.

    Finds every digit (touching, broken, slanted, on ruled or boxed forms), orders them left
    to right and line by line, and reads each with the model. A wide gap becomes a space,
    lines are joined with newlines. Unreadable pictures are reported and skipped; the exit
    code is then 7 (3 when none could be read).
    """
    from digitkit.cli.read_output import run

    run(paths, **options)


apply(command, OPTIONS, before=_paths)
