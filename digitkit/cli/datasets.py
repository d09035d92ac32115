"""`digitkit datasets`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import JsonFlag


def command(
    json_output: JsonFlag = False,
    prepare: Annotated[
        Optional[str],
        typer.Option("--prepare", metavar="NAME", help="Download/prepare this dataset now (a name or an IDX folder)."),
    ] = None,
    rebuild: Annotated[
        Optional[str],
        typer.Option("--rebuild", metavar="NAME", help="Delete and prepare again a damaged or stale dataset."),
    ] = None,
) -> None:
    """List the datasets digitkit can read here: prepared or not, split sizes, where they live.

    Names go to `--dataset` of fit, evaluate and preview; so does a folder of MNIST IDX files or of digit images (`<folder>/<digit>/<images>`).
    """
    from digitkit.render.console import err, escape, out, print_json
    from digitkit.render.datasets import datasets_table, sizes

    if prepare and rebuild:
        from digitkit.errors import UsageError

        raise UsageError("--prepare and --rebuild cannot be used together")
    if prepare or rebuild:
        from digitkit.data.catalog import prepare_dataset

        from digitkit.render.console import working

        name = prepare or rebuild
        with working(f"preparing {escape(name)} (downloaded once, then read from the data folder) ..."):
            entry = prepare_dataset(name, rebuild=bool(rebuild))
        if json_output:
            print_json(entry.to_dict())
        else:
            err().print(f"[green]{escape(entry.name)}[/] is {escape(entry.status)}: {escape(sizes(entry.splits))} "
                        f"in {escape(entry.location)}", soft_wrap=True)
        return
    from digitkit.data.catalog import list_datasets

    entries = list_datasets()
    if json_output:
        print_json([e.to_dict() for e in entries])
        return
    console = out()
    console.print(datasets_table(entries, console.width))
    for entry in entries:
        if entry.problem:
            err().print(f"[yellow]{escape(entry.name)}: {escape(entry.problem)}[/]", soft_wrap=True)
