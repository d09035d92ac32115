"""`digitkit predict`: the digit in each image, with top-k probabilities."""

from __future__ import annotations

import csv
import sys
from typing import Annotated, List, Literal, Optional

import typer

from digitkit.cli.options import JsonFlag, complete_model_ref

BAR_WIDTH = 20
EIGHTHS = " ▏▎▍▌▋▊▉"


def command(
    paths: Annotated[List[str], typer.Argument(
        help="Image files, folders (searched recursively), glob patterns, or - for an image on stdin.",
        show_default=False, metavar="PATH")],
    model: Annotated[str, typer.Option(
        "--model", "-m", help="Run id, .keras/.tflite path, run folder, or model name (its latest run).",
        autocompletion=complete_model_ref)] = "cnn",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=10, metavar="K", help="Digits to rank per image.")] = 3,
    json_output: JsonFlag = False,
    csv_output: Annotated[bool, typer.Option("--csv", help="Print CSV on stdout (one row per image).")] = False,
    show: Annotated[bool, typer.Option("--show", help="Draw each digit as the model received it.")] = False,
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
    from digitkit.errors import UsageError
    from digitkit.predict import NothingPredicted, predict

    if json_output and csv_output:
        raise UsageError("--json and --csv cannot be used together")
    try:
        result = predict(paths, model=model, top_k=top_k, min_confidence=min_confidence,
                         preprocess=not no_preprocess, backend=backend)
    except NothingPredicted as exc:
        if len(exc.failures) > 1:
            _print_failures(exc.failures)
        raise
    if json_output:
        from digitkit.render.console import print_json

        print_json(result.to_dict())
    elif csv_output:
        _print_csv(result)
    else:
        _print_table(result, show)
    _print_failures(result.failures)
    result.check()


def _print_failures(failures) -> None:
    from digitkit.render.console import err, escape, printable

    console = err()
    for failure in failures:
        console.print(f"[yellow]skipped[/] {escape(printable(failure.input))}: {escape(printable(failure.message))}",
                      soft_wrap=True)


def _bar(probability: float) -> str:
    eighths = int(round(probability * BAR_WIDTH * 8))
    full, part = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(BAR_WIDTH)


def _top_k_text(prediction):
    from rich.text import Text

    lines = Text()
    for rank, (digit, probability) in enumerate(prediction.top_k):
        style = "green" if rank == 0 and prediction.digit is not None else "dim"
        lines.append(f"{digit} ", style="bold" if rank == 0 else "")
        lines.append(_bar(probability), style=style)
        lines.append(f" {probability * 100:5.1f}%" + ("\n" if rank < len(prediction.top_k) - 1 else ""))
    return lines


def _title(result) -> str:
    from digitkit.render.console import escape

    run = f", run {escape(result.run_id)}" if result.run_id else ""
    return f"{escape(result.model_name)} ({result.backend}{run})"


def _print_table(result, show: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from digitkit.render.console import out, printable

    console = out()
    if show:
        return _print_shown(result, console)
    table = Table(title=_title(result), title_justify="left")
    table.add_column("input", overflow="fold")
    table.add_column("digit", justify="center", style="bold")
    table.add_column("top-k", no_wrap=True)
    for prediction in result.predictions:
        answer = "?" if prediction.digit is None else str(prediction.digit)
        table.add_row(Text(printable(prediction.input)), answer, _top_k_text(prediction))
    console.print(table)


def _print_shown(result, console) -> None:
    """Each digit as the model received it, under its name and above its answer."""
    from rich.text import Text

    from digitkit.render.console import printable
    from digitkit.render.digits import choose_mode, render_digit

    mode = choose_mode(console)
    console.print(_title(result))
    for prediction in result.predictions:
        answer = "?" if prediction.digit is None else str(prediction.digit)
        header = Text(printable(prediction.input))
        header.append(f"  → {answer}", style="bold")
        console.print(header)
        console.print(render_digit(prediction.image, mode))
        console.print(_top_k_text(prediction))
        console.print()


def _print_csv(result) -> None:
    from digitkit.errors import printable

    # Names are escaped like everywhere on a terminal; --json keeps them exact.
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["input", "digit", "best", "confidence", *[f"p{d}" for d in range(10)]])
    for p in result.predictions:
        writer.writerow([printable(p.input), "?" if p.digit is None else p.digit, p.best, f"{p.confidence:.6f}",
                         *[f"{float(v):.6f}" for v in p.probabilities]])
    sys.stdout.flush()
