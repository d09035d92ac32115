"""`digitkit preview`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Literal, Optional

import typer

from digitkit.cli.options import complete_dataset


def command(
    files: Annotated[
        Optional[List[Path]],
        typer.Argument(help="Image files to show next to the 28x28 digit a model receives.", show_default=False,
                       metavar="FILE"),
    ] = None,
    dataset: Annotated[
        Optional[str],
        typer.Option("--dataset", "-d", autocompletion=complete_dataset, help="Dataset name or folder (see `digitkit datasets`); default mnist."),
    ] = None,
    split: Annotated[Literal["train", "test"], typer.Option("--split", help="Split to show.")] = "train",
    count: Annotated[int, typer.Option("--count", "-n", metavar="N", help="How many digits to show.")] = 16,
    label: Annotated[Optional[int], typer.Option("--label", metavar="DIGIT", help="Only digits with this label (0-9).")] = None,
    index: Annotated[Optional[int], typer.Option("--index", metavar="N", help="Start at this position in the split.")] = None,
    mode: Annotated[
        Literal["auto", "ramp", "blocks"],
        typer.Option("--mode", help="ramp (characters), blocks (Unicode half blocks) or auto.")
    ] = "auto",
    stats: Annotated[bool, typer.Option("--stats", help="Show per-class counts as a bar chart instead.")] = False,
) -> None:
    """Show digits in the terminal: from a dataset, or image files as a model will see them.

    Half blocks with grey levels are used where the terminal has colour; the character ramp otherwise (NO_COLOR set, or output not a terminal).
    """
    from digitkit.errors import UsageError
    from digitkit.render.console import out

    if mode not in ("auto", "ramp", "blocks"):
        raise UsageError(f"expected --mode ramp, blocks or auto. Received: mode={mode}")
    if files and (dataset is not None or stats or label is not None or index is not None):
        raise UsageError("image files cannot be combined with --dataset, --stats, --label or --index")
    console = out()
    if files:
        _show_files(console, [str(f) for f in files], mode)
    elif stats:
        _show_stats(console, dataset, split)
    else:
        _show_dataset(console, dataset, split, count, label, index, mode)


def _modes(console, mode: str):
    from digitkit.render.digits import choose_mode, has_colour

    return (choose_mode(console) if mode == "auto" else mode), has_colour(console)


def _print_notes(notes) -> None:
    from digitkit.render.console import err, escape

    for note in notes:
        err().print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)


def _show_dataset(console, dataset, split, count, label, index, mode) -> None:
    from digitkit.data.preview import select_digits
    from digitkit.render.console import err, escape, working
    from digitkit.render.digits import digit_grid

    with working(f"reading {escape(dataset or 'the default dataset')} ..."):  # tfds: seconds the first time
        selection = select_digits(dataset, split, count=count, label=label, index=index)
    _print_notes(selection.notes)
    err().print(f"{escape(selection.dataset)} {split}: {len(selection.labels)} of {selection.total:,} digits "
                f"[dim]({escape(selection.source)})[/]", soft_wrap=True)
    render_mode, colour = _modes(console, mode)
    captions = [f"{lab} #{pos}" for lab, pos in zip(selection.labels, selection.indices)]
    console.print(digit_grid(list(selection.images), captions, console.width, render_mode, colour=colour))


def _show_stats(console, dataset, split) -> None:
    from digitkit.data.preview import class_counts
    from digitkit.render.console import escape, working
    from digitkit.render.digits import class_bars

    with working(f"counting {escape(dataset or 'the default dataset')} ..."):
        counts = class_counts(dataset, split)
    _print_notes(counts.notes)
    console.print(f"{escape(counts.dataset)} {split}: {counts.total:,} digits, per class "
                  f"[dim]({escape(counts.source)})[/]", soft_wrap=True)
    console.print(class_bars(counts.counts, console.width))


def _show_files(console, paths: list[str], mode: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from digitkit.data.preview import view_file
    from digitkit.errors import InputError, PartialFailure
    from digitkit.render.console import err, escape, printable
    from digitkit.render.digits import render_digit

    views = [view_file(p) for p in paths]
    render_mode, colour = _modes(console, mode)
    half = max(1, (console.width - 3) // 2)
    failed = []
    for view in views:
        if view.error:
            if len(views) > 1:  # a single failure is reported once, by the error edge
                err().print(f"[red]error:[/] {escape(printable(view.error))}", soft_wrap=True)
            failed.append(view)
            continue
        _print_notes(view.notes)
        table = Table.grid(padding=(0, 3))
        table.add_column(no_wrap=True, overflow="crop")
        table.add_column(no_wrap=True, overflow="crop")
        right = render_digit(view.digit, render_mode, width=half, colour=colour) if view.digit is not None \
            else Text("(not available)", style="dim")
        original, caption = view.original, f"as given ({view.size[0]}x{view.size[1]})"
        if (render_mode == "ramp" or not colour) and float(original.mean()) > 0.5:
            # Characters and monochrome blocks draw ink, not light: show dark ink on paper as ink.
            original, caption = 1.0 - original, caption + ", ink shown as marks"
        table.add_row(render_digit(original, render_mode, width=half, colour=colour), right)
        table.add_row(Text(caption), Text("model input (28x28)"))
        console.print(Text(printable(view.path), style="bold"))
        console.print(table)
    if failed and len(failed) == len(views):
        raise InputError(failed[0].error if len(views) == 1 else f"none of the {len(views)} images could be read")
    if failed:
        raise PartialFailure(f"{len(failed)} of {len(views)} images could not be read")
