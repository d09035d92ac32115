"""`digitkit predict`: the digit in each image, with top-k probabilities.

The options are declared once, without Typer, in :mod:`digitkit.cli.predict_options`;
:mod:`digitkit.cli.predict_output` does the work (and :mod:`digitkit.cli.entry` calls it
directly for a plain ``digitkit predict``, so the one-image path does not import Typer).
"""

from __future__ import annotations

from typing import Annotated, Any, List

import typer

from digitkit.cli.declared import apply
from digitkit.cli.predict_options import OPTIONS



def _paths(
    paths: Annotated[List[str], typer.Argument(
        help="Image files, folders (searched recursively), glob patterns, or - for an image on stdin.",
        show_default=False, metavar="PATH")],
) -> None: ...


def command(paths: List[str], **options: Any) -> None:
    """Predict the digit in images of handwritten digits.

    Photos and scans of dark ink on paper are fine: each image is made MNIST-like first
    (inverted, cropped, scaled to 20 px and centred). Unreadable files are reported and
    skipped; the exit code is then 7 (3 when none could be read).

    Each answer has a status: ok, unsure (calibrated confidence under --min-confidence,
    default 0.999) or not-a-digit (a letter, a drawing, several digits...).
    """
    from digitkit.cli.predict_output import run

    run(paths, **options)


apply(command, OPTIONS, before=_paths)
