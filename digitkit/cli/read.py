"""`digitkit read`: the whole number in each picture, every digit found and read in order.

This module only declares the options; :mod:`digitkit.cli.read_output` does the work.
"""

from __future__ import annotations

from typing import Annotated, List, Literal, Optional

import typer

from digitkit.cli.options import JsonFlag, complete_model_ref


def command(
    paths: Annotated[List[str], typer.Argument(
        help="Pictures, folders (searched recursively), glob patterns, or - for a picture on stdin.",
        show_default=False, metavar="PICTURE")],
    model: Annotated[str, typer.Option(
        "--model", "-m", help="Run id, .keras/.tflite path, run folder, model name (its latest run), or "
        "NAME@pretrained.", autocompletion=complete_model_ref)] = "cnn",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=10, metavar="K",
                                       help="Digits to rank for each digit found.")] = 3,
    digits: Annotated[Optional[int], typer.Option(
        "--digits", min=1, max=200, metavar="N", show_default=False,
        help="Read exactly N digits (when the count is known, e.g. a zip code).")] = None,
    keep_marks: Annotated[bool, typer.Option(
        "--keep-marks", help="Keep dots, commas and dashes between digits in the text.")] = False,
    json_output: JsonFlag = False,
    jsonl_output: Annotated[bool, typer.Option(
        "--jsonl", help="Print one JSON object per picture on stdout, as each is done.")] = False,
    csv_output: Annotated[bool, typer.Option(
        "--csv", help="Print CSV on stdout (one row per picture, as each is done).")] = False,
    backend: Annotated[Literal["auto", "litert", "keras"], typer.Option(
        "--backend", help="auto (LiteRT when the run has model.tflite, else Keras), litert or keras.")] = "auto",
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit with code 8 when a digit is unsure or not a digit.")] = False,
) -> None:
    """Read the whole number in pictures of handwritten digits.

    Finds every digit (touching, broken, slanted, on ruled or boxed forms), orders them left
    to right and line by line, and reads each with the model. A wide gap becomes a space,
    lines are joined with newlines. Unreadable pictures are reported and skipped; the exit
    code is then 7 (3 when none could be read).
    """
    from digitkit.cli.read_output import run

    run(paths, model=model, top_k=top_k, digits=digits, keep_marks=keep_marks, json_output=json_output,
        jsonl_output=jsonl_output, csv_output=csv_output, backend=backend, strict=strict)
