"""`digitkit label`: label pictures in the terminal, for fine-tuning."""

from __future__ import annotations

import sys
from typing import Annotated, List, Optional

import typer

from digitkit.cli.options import JsonFlag, complete_model_ref


def command(
    pictures: Annotated[List[str], typer.Argument(help="Image files, folders or glob patterns to label.",
                                                  show_default=False, metavar="PICTURES")],
    out: Annotated[str, typer.Option("--out", "-o", metavar="DIR",
                                     help="Labelled folder: DIR/<digit>/ and DIR/labels.csv.")],
    model: Annotated[str, typer.Option("--model", "-m", metavar="MODEL", autocompletion=complete_model_ref,
                                       help="Whose answers to show and accept.")] = "cnn-best@pretrained",
    accept_above: Annotated[Optional[float], typer.Option(
        "--accept-above", metavar="P", show_default=False,
        help="Label answers at least P confident without asking (no terminal needed).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Label pictures of your handwriting, least confident first, to fine-tune a model.

    Each picture is shown with the model's answer: a digit key labels it, Enter accepts the
    answer, Backspace goes back, s skips, q quits. Every label is saved at once; run the
    command again to resume. Then: digitkit fit MODEL --init-from REF --dataset DIR.
    """
    from digitkit.errors import UsageError
    from digitkit.labelling import label_pictures
    from digitkit.render.console import err, escape, out as out_console, print_json

    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    if not interactive and accept_above is None:
        raise UsageError("label asks for labels on a terminal, and stdin is not one",
                         hint="run it in a terminal, or label without asking with --accept-above P")

    def skipped(name: str, message: str) -> None:
        err().print(f"skipped {escape(name)}: {escape(message)}", highlight=False, soft_wrap=True)

    reviewer = None
    if interactive:
        from digitkit.render import labelling

        def reviewer(review) -> None:
            with labelling.RawKeys(sys.stdin.fileno()) as keys:
                labelling.run(review, err(), keys.read)

    result = label_pictures(pictures, out, model=model, accept_above=accept_above, reviewer=reviewer,
                            on_failure=skipped)
    if json_output:
        print_json(result.to_dict())
        return
    data = result.to_dict()
    counts = "  ".join(f"{d}:{n}" for d, n in data["counts"].items())
    out_console().print(f"{data['labelled']} labelled in {escape(str(result.out))}\n{counts}\n"
                        f"{data['skipped']} skipped, {data['left']} left to label", highlight=False)
