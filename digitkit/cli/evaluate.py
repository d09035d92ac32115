"""`digitkit evaluate`: score a trained model on the test split."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import JsonFlag, ModelRef


def command(
    model: ModelRef,
    dataset: Annotated[
        Optional[str], typer.Option("--dataset", help="Dataset name or IDX folder (default: the run's dataset).",
                                    show_default=False),
    ] = None,
    split: Annotated[str, typer.Option("--split", help="Split to score: test or train.")] = "test",
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=10, help="k of the top-k accuracy.")] = 3,
    gallery: Annotated[int, typer.Option("--gallery", min=0, help="Misclassified digits to draw (0: none).")] = 12,
    json_output: JsonFlag = False,
) -> None:
    """Evaluate a trained model: accuracy, per-class scores, confusions and its worst mistakes.

    Results are saved as evaluation.json and predictions.npz in the model's run folder,
    where `digitkit report` reuses them.
    """
    from digitkit.evaluation import evaluate
    from digitkit.render.console import err, escape, out, print_json
    from digitkit.render.digits import choose_mode
    from digitkit.render.evaluation import evaluation_view

    status = err()
    with status.status("evaluating…"):
        result = evaluate(model, dataset=dataset, split=split, top_k=top_k)
    for note in result.notes:
        status.print(f"[yellow]note:[/] {escape(note)}")
    if json_output:
        print_json(result.data)
    else:
        console = out()
        console.print(evaluation_view(result, width=console.width, mode=choose_mode(console), gallery_size=gallery))
    if result.saved_to is not None:
        saved = escape(str(result.saved_to))
        status.print(f"[dim]saved evaluation.json and predictions.npz in {saved}[/]", soft_wrap=True)
