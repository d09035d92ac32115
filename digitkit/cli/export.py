"""`digitkit export`: write a trained model in another format, checked against Keras."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import JsonFlag, ModelRef

FORMAT_HELP = ("keras (verified copy), saved-model (TensorFlow SavedModel folder), litert (.tflite for LiteRT "
               "and fast `predict`), onnx (needs tf2onnx + onnxruntime).")


def command(
    run: ModelRef,
    format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP, show_default=False)],
    out: Annotated[Optional[str], typer.Option(
        "--out", "-o", help="Target path (a folder for saved-model). Default: litert -> the run's model.tflite, "
        "others -> <run>/exports/<model>.<ext>.", show_default=False)] = None,
    samples: Annotated[int, typer.Option("--samples", min=1, max=1000,
                                         help="Test digits used for the parity check.")] = 200,
    json_output: JsonFlag = False,
) -> None:
    """Export a trained model to keras, saved-model, litert or onnx.

    The export is written beside its target, compared with the Keras model on test digits
    (same top-1 digit, probabilities within 1e-4), and only then moved into place.
    """
    from digitkit.exporting import FORMATS, export
    from digitkit.errors import UsageError
    from digitkit.render.console import err, escape, out as stdout, print_json

    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}", hint=f"use one of {', '.join(FORMATS)}")
    err().print(f"exporting {escape(run)} as {format}…")
    result = export(run, format, out, samples=samples)
    if json_output:
        print_json(result.to_dict())
        return
    console = stdout()
    console.print(f"[green]wrote[/] {escape(str(result.path))} ({result.size_bytes / 1024:,.0f} KiB, "
                  f"{result.format}, {escape(result.model_name)}"
                  f"{', run ' + escape(result.run_id) if result.run_id else ''})", soft_wrap=True)
    console.print(f"[green]parity passed[/]: {result.parity.describe()}", soft_wrap=True)
