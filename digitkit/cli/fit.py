"""`digitkit fit`: train a model into a run directory.

The options are not written here: they are :class:`digitkit.training.options.FitOptions`'
fields, declared once with their flags and help, and given to this command by
:func:`digitkit.cli.declared.apply`.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from digitkit.cli.declared import apply
from digitkit.cli.options import JsonFlag, QuietFlag, complete_model_name
from digitkit.training.options import FitOptions


def _model(
    model: Annotated[Optional[str], typer.Argument(help="Model name, as `digitkit list-models` shows it.",
                                                   autocompletion=complete_model_name, show_default=False,
                                                   metavar="MODEL")] = None,
) -> None: ...


def _output(quiet: QuietFlag = False, json_output: JsonFlag = False) -> None: ...


def command(model: str | None = None, *, quiet: bool = False, json_output: bool = False, **options: Any) -> None:
    """Train a model with its recipe and save the run (model, history, metrics, manifest).

    Progress goes to stderr (JSON Lines events with --json); the result to stdout. Ctrl-C
    stops at a safe point and prints the command that resumes the run.
    """
    checked = FitOptions.from_keywords(model, **options).check()
    from digitkit.render.console import out as out_console, print_json
    from digitkit.render.progress import make_progress, summary_table
    from digitkit.training.loop import fit

    progress = make_progress(quiet=quiet, json_lines=json_output)
    try:
        result = fit(checked, progress=progress)
    finally:
        close = getattr(progress, "close", None)
        if close is not None:  # a spinner must not outlive an error raised before training
            close()
    if json_output:
        print_json(result.to_dict())
    elif quiet:
        out_console().print(f"{result.run_id}  test accuracy {result.test_metrics['accuracy']:.4f}",
                            highlight=False, markup=False)
    else:
        out_console().print(summary_table(result))


apply(command, FitOptions.declared(), before=_model, after=_output)
