"""`digitkit evaluate`: score a trained model on the test split."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from digitkit.cli.declared import typer_option
from digitkit.cli.options import JsonFlag, ModelRef, QuietFlag, dataset_option
from digitkit.cli.read_options import OPTIONS as READ_OPTIONS

# read's --digits, declared once there; here it only applies with --numbers.
_DIGITS_TYPE, _DIGITS_OPTION = typer_option(next(d for d in READ_OPTIONS if d.name == "digits"))


def command(
    model: ModelRef,
    dataset: Annotated[Optional[str], dataset_option("the data the run trained on")] = None,
    split: Annotated[Literal["test", "train"], typer.Option("--split", help="Split to score.")] = "test",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=10, metavar="K",
                                       help="k of the top-k accuracy.")] = 3,
    gallery: Annotated[Optional[int], typer.Option(
        "--gallery", "-g", min=0, metavar="N", show_default=False,
        help="Misclassified digits to draw, most confident first (0: none). Default: as many as fit on the "
             "screen below the metrics. With --numbers: misread numbers to list (default 10).")] = None,
    numbers: Annotated[Optional[str], typer.Option(
        "--numbers", metavar="DIR", show_default=False,
        help="Score the model as a reader of whole numbers (as `digitkit read`) on the pictures in DIR, each named "
             "with its true text (NAME_DIGITS.png, or listed in DIR/labels.csv as scripts/make_numbers.py writes "
             "it).")] = None,
    digits: Annotated[_DIGITS_TYPE, _DIGITS_OPTION] = None,
    quiet: QuietFlag = False,
    json_output: JsonFlag = False,
) -> None:
    """Evaluate a trained model: accuracy, per-class scores, confusions and its worst mistakes.

    The default output fits one screen: the summary first, then the confusion matrix with each digit's recall, precision and F1, the most confused pairs, and as many misclassified digits as there is room for.

    Results are saved as evaluation.json and predictions.npz in the model's run folder, where `digitkit report` reuses them. The dataset defaults to the one the run trained on.
    """
    from digitkit.evaluation import evaluate
    from digitkit.render.console import err, escape, out, print_json
    from digitkit.render.digits import choose_mode
    from digitkit.render.evaluation import evaluation_view

    if numbers is not None:
        _numbers(model, numbers, dataset, split, top_k, gallery, digits, quiet, json_output)
        return
    if digits is not None:
        from digitkit.errors import UsageError

        raise UsageError("--digits applies to --numbers DIR (the count of digits each number has)")
    status = err()
    with status.status("evaluating…"):
        result = evaluate(model, dataset=dataset, split=split, top_k=top_k)
    for note in result.notes:
        status.print(f"[yellow]note:[/] {escape(note)}")
    if json_output:
        print_json(result.data)
    elif quiet:
        m = result.data["metrics"]
        out().print(f"{result.data.get('run') or result.data.get('model') or model}  accuracy {m['accuracy']:.4f}  "
                    f"top-{result.data['top_k']} {m['top_k_accuracy']:.4f}  macro F1 {m['macro_f1']:.4f}",
                    markup=False, soft_wrap=True)
    else:
        console = out()
        console.print(evaluation_view(result, width=console.width, mode=choose_mode(console), gallery_size=gallery,
                                      height=console.height, console=console))
    if result.saved_to is not None:
        # One short line: the run is named in the summary above, and a long path would wrap.
        where = "the run folder" if result.data.get("run") else str(result.saved_to)
        status.print(f"[dim]saved evaluation.json and predictions.npz in {escape(where)}[/]")


def _numbers(model: str, folder: str, dataset: str | None, split: str, top_k: int, gallery: int | None,
             digits: int | None, quiet: bool, json_output: bool) -> None:
    """`evaluate MODEL --numbers DIR`: the reader scored on a set of numbers."""
    from digitkit.errors import UsageError
    from digitkit.evaluation import evaluate_numbers
    from digitkit.render.console import err, escape, out, print_json
    from digitkit.render.evaluation import numbers_view

    if dataset is not None or split != "test":
        raise UsageError("--numbers scores the pictures in its folder: --dataset and --split do not apply")
    status = err()
    with status.status("reading the numbers…"):
        result = evaluate_numbers(model, folder, top_k=top_k, digits=digits)
    for note in result.notes:
        status.print(f"[yellow]note:[/] {escape(note)}")
    if json_output:
        print_json(result.to_dict())
    elif quiet:
        m = result.metrics
        out().print(f"{result.data.get('run') or result.data.get('answered_by') or model}  numbers "
                    f"{m['accuracy']:.4f}  digits {m['digit_accuracy'] or 0:.4f}  not ok {m['not_ok']}",
                    markup=False, soft_wrap=True)
    else:
        console = out()
        console.print(numbers_view(result, width=console.width, listed=gallery))
    if result.saved_to is not None:
        status.print("[dim]saved numbers-evaluation.json and numbers-mistakes.npz in the run folder[/]")
