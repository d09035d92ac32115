"""`digitkit predict`: the digit in each image, with top-k probabilities.

This module only declares the options; :mod:`digitkit.cli.predict_output` does the work
(and :mod:`digitkit.cli.entry` calls it directly for a plain ``digitkit predict``, so the
one-image path does not import Typer).
"""

from __future__ import annotations

from typing import Annotated, List, Literal, Optional

import typer

from digitkit.cli.options import JsonFlag, complete_model_ref



def command(
    paths: Annotated[List[str], typer.Argument(
        help="Image files, folders (searched recursively), glob patterns, or - for an image on stdin.",
        show_default=False, metavar="PATH")],
    model: Annotated[str, typer.Option(
        "--model", "-m", help="Run id, .keras/.tflite path, run folder, model name (its latest run), or "
        "NAME@pretrained.", autocompletion=complete_model_ref)] = "cnn",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=10, metavar="K", help="Digits to rank per image.")] = 3,
    json_output: JsonFlag = False,
    jsonl_output: Annotated[bool, typer.Option(
        "--jsonl", help="Print one JSON object per image on stdout, as each is done.")] = False,
    csv_output: Annotated[bool, typer.Option(
        "--csv", help="Print CSV on stdout (one row per image, as each is done).")] = False,
    show: Annotated[bool, typer.Option("--show", help="Draw each digit as the model received it, beside the "
                                                      "picture as found (paper, ink, crop).")] = False,
    min_confidence: Annotated[Optional[float], typer.Option(
        "--min-confidence", min=0.0, max=1.0, metavar="P", help="Answer '?' when the top probability is below this.",
        show_default=False)] = None,
    no_preprocess: Annotated[bool, typer.Option(
        "--no-preprocess", help="Only resize to 28x28 (for images already in MNIST form: white on black, "
        "centred).")] = False,
    backend: Annotated[Literal["auto", "litert", "keras"], typer.Option(
        "--backend", help="auto (LiteRT when the run has model.tflite, else Keras), litert or keras.")] = "auto",
) -> None:
    """Predict the digit in images of handwritten digits.

    Photos and scans of dark ink on paper are fine: each image is made MNIST-like first
    (inverted, cropped, scaled to 20 px and centred). Unreadable files are reported and
    skipped; the exit code is then 7 (3 when none could be read).
    """
    from digitkit.cli.predict_output import run

    run(paths, model=model, top_k=top_k, json_output=json_output, jsonl_output=jsonl_output,
        csv_output=csv_output, show=show, min_confidence=min_confidence, no_preprocess=no_preprocess,
        backend=backend)
