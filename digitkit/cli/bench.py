"""`digitkit bench`: train, evaluate and compare several models."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from digitkit.cli.options import JsonFlag, complete_dataset, complete_model_name


def command(
    models: Annotated[
        Optional[List[str]], typer.Argument(help="Models to compare (default: every installed model).",
                                            autocompletion=complete_model_name, show_default=False),
    ] = None,
    epochs: Annotated[
        Optional[int], typer.Option("--epochs", "-e", min=1, help="Epochs for every model (default: each recipe's).",
                                    show_default=False),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="One epoch on a subset: a fast, rough comparison.")] = False,
    dataset: Annotated[
        Optional[str], typer.Option("--dataset", "-d", autocompletion=complete_dataset, help="Dataset name or IDX folder.", show_default=False),
    ] = None,
    out: Annotated[
        Optional[str], typer.Option("--out", "-o", metavar="DIR", help="Folder for report.html and bench.json "
                                                  "(default: <home>/bench/<time>).", show_default=False),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed every model trains with.")] = 0,
    json_output: JsonFlag = False,
) -> None:
    """Train each model, evaluate it on the same test split, time it, and print a leaderboard.

    It also writes a multi-run HTML report and bench.json into the output folder.
    """
    from dataclasses import asdict

    from digitkit.bench import bench
    from digitkit.errors import PartialFailure
    from digitkit.render.console import err, escape, out as stdout, print_json
    from digitkit.render.evaluation import bench_table

    from digitkit.render.console import working

    status = err()
    # Each model trains for minutes without a display of its own: a spinner says which one
    # (off a terminal, one line per model as before).
    with working("[bold]bench[/]: loading TensorFlow ...", plain=True) as say:
        def announce(name: str, position: int, count: int) -> None:
            say(f"[bold]{position}/{count}[/] training and evaluating {escape(name)}…")

        result = bench(models, epochs=epochs, quick=quick, dataset=dataset, out=out, seed=seed,
                       on_model=announce)
    for note in result.notes:
        status.print(f"[yellow]note:[/] {escape(note)}")
    if json_output:
        print_json({"entries": [asdict(e) for e in result.entries], "report": str(result.report.paths[0])})
    else:
        from digitkit.bench import QUICK_MEANS

        stdout().print(bench_table(result.entries, quick=QUICK_MEANS if quick else None))
        status.print(f"report: {escape(str(result.report.paths[0]))}")
    if result.failures:
        names = ", ".join(e.model for e in result.failures)
        raise PartialFailure(f"{len(result.failures)} of {len(result.entries)} models failed: {names}")
