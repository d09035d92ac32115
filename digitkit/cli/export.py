"""`digitkit export`: write a trained model in another format, checked against Keras."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from digitkit.cli.options import JsonFlag, ModelRef

# `tflite` is what most people call LiteRT's format (and its file extension).
ALIASES = {"tflite": "litert"}
Format = Literal["litert", "tflite", "keras", "saved-model", "onnx"]
FORMAT_HELP = ("litert (.tflite, for LiteRT and fast `predict`; tflite is another name for it), keras (verified "
               "copy), saved-model (TensorFlow SavedModel folder), onnx (needs the onnx extra: tf2onnx and "
               "onnxruntime).")


def command(
    run: ModelRef,
    format: Annotated[Format, typer.Option("--format", "-f", case_sensitive=False, help=FORMAT_HELP)] = "litert",
    out: Annotated[Optional[str], typer.Option(
        "--out", "-o", metavar="PATH", help="Target path (a folder for saved-model). Default: litert -> the run's "
        "model.tflite, others -> <run>/exports/<model>.<ext>.", show_default=False)] = None,
    samples: Annotated[int, typer.Option("--samples", min=1, max=1000, metavar="N",
                                         help="Test digits used for the parity check.")] = 200,
    json_output: JsonFlag = False,
) -> None:
    """Export a trained model to litert (the default), keras, saved-model or onnx.

    The export is written beside its target, compared with the Keras model on test digits (same top-1 digit, probabilities within 1e-4), and only then moved into place.
    """
    from digitkit.exporting import export
    from digitkit.render.console import err, escape, out as stdout, print_json

    format = ALIASES.get(format.lower(), format.lower())
    console = err()
    if console.is_terminal:  # TensorFlow, conversion and the check take seconds: a spinner says so
        with console.status(f"exporting {escape(run)} as {format} (TensorFlow, conversion, parity check) ..."):
            result = export(run, format, out, samples=samples)
    else:
        console.print(f"exporting {escape(run)} as {format}…")
        result = export(run, format, out, samples=samples)
    if json_output:
        print_json(result.to_dict())
        return
    console = stdout()
    if result.reused:
        from digitkit.render.paths import fold_path

        console.print(f"[green]up to date[/]: run {escape(result.run_id or '')}'s model.tflite "
                      f"({result.size_bytes / 1024:,.0f} KiB) is the checked export of its model.keras "
                      "(SHA-256 of both recorded when it was written); not exported again")
        console.print(escape(fold_path(str(result.path), console.width)))
        return
    console.print(f"[green]wrote[/] {escape(str(result.path))} ({result.size_bytes / 1024:,.0f} KiB, "
                  f"{result.format}, {escape(result.model_name)}"
                  f"{', run ' + escape(result.run_id) if result.run_id else ''})")
    console.print(f"[green]parity passed[/]: {result.parity.describe()}")
