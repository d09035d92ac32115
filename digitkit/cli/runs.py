"""`digitkit runs`: list, show and remove training runs (no TensorFlow)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import JsonFlag, complete_run_id

app = typer.Typer(help="List, show and remove training runs.", no_args_is_help=False, invoke_without_command=True)

RUN_HELP = ("A run: its id, a unique id prefix, the short hash ending the id, its label (fit --name), "
            "or a model name (that model's latest run).")
RunRef = Annotated[str, typer.Argument(help=RUN_HELP, show_default=False, metavar="RUN",
                                       autocompletion=complete_run_id)]


@app.callback(invoke_without_command=True)
def list_runs(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """List training runs, oldest first (id, model, dataset, epochs, test accuracy, time, status).

    Runs whose manifest cannot be read are listed as "unreadable" with the reason, and
    folders left by a removal that failed half-way are listed so `runs rm --purge` can
    finish them.
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.markup import escape

    from digitkit import runs
    from digitkit.render.console import err, out, print_json
    from digitkit.render.runs import run_row, runs_table

    listing = runs.list_all()
    unreadable = {run.id: problem for run, problem in listing.unreadable}
    rows = []
    for run in sorted([*listing.readable, *(r for r, _ in listing.unreadable)], key=lambda r: r.id):
        if run.id in unreadable:
            rows.append({**run_row({"id": run.id}), "model": "?", "status": "unreadable",
                         "problem": unreadable[run.id]})
        else:
            rows.append({**run_row(run.manifest), "name": run.load_manifest().name})
    if json_output:
        print_json(rows + [{**run_row({"id": p.name}), "status": "half-removed", "path": str(p)}
                           for p in listing.trash])
        return
    if not rows and not listing.trash:
        err().print("no runs yet: `digitkit fit MODEL` trains one; `predict` uses cnn@pretrained")
        return
    if rows:
        console = out()
        console.print(runs_table(rows, console.width))
    console = err()
    for run_id, problem in unreadable.items():
        console.print(f"[red]unreadable[/] {escape(run_id)}: {escape(problem)} "
                      f"[dim](remove it with `digitkit runs rm {escape(run_id)}`)[/]", soft_wrap=True)
    for path in listing.trash:
        console.print(f"[yellow]half-removed[/] {escape(str(path))} [dim](finish with `digitkit runs rm --purge`)[/]",
                      soft_wrap=True)


@app.command("show")
def show(run_ref: RunRef, json_output: JsonFlag = False) -> None:
    """Show a run's manifest and a summary of its history.

    A damaged history.json is reported on its own line; the rest of the run still shows.
    """
    from rich.markup import escape

    from digitkit import runs
    from digitkit.render.console import err, out, print_json
    from digitkit.render.runs import run_detail

    run = runs.get_run(run_ref)
    manifest = run.manifest  # an unreadable run stops here with its one-line reason
    problems = []
    try:
        history = run.read(runs.HISTORY_JSON)
    except runs.RunFileError as exc:
        history = None
        problems.append(str(exc))
    if json_output:
        print_json({"manifest": manifest, "history": history, "problems": problems})
        return
    try:
        files = sorted(p.name + ("/" if p.is_dir() else "") for p in run.path.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        files = [f"(cannot list: {exc.strerror})"]
    out().print(run_detail(manifest, history, files))
    for problem in problems:
        err().print(f"[yellow]warning:[/] {escape(problem)}", soft_wrap=True)


@app.command("compare")
def compare(
    run_refs: Annotated[list[str], typer.Argument(help=RUN_HELP + " Two or more.", show_default=False,
                                                metavar="RUN", autocompletion=complete_run_id)],
    json_output: JsonFlag = False,
) -> None:
    """Compare runs side by side: data, time, accuracy, calibration, per-digit F1.

    Reads what the runs hold (manifest, saved evaluation); it never trains or evaluates.
    Per-class F1 and the calibration error need a saved evaluation (`digitkit evaluate RUN`
    or `digitkit report RUN` saves one). `digitkit report A B` draws the same runs in HTML
    with overlaid learning curves.
    """
    from rich.markup import escape

    from digitkit.evaluation.compare import compare_runs
    from digitkit.render.compare import compare_table
    from digitkit.render.console import err, out, print_json

    comparison = compare_runs(run_refs)
    if json_output:
        print_json(comparison.to_dict())
        return
    out().print(compare_table(comparison))
    for note in comparison.notes:
        err().print(f"[dim]{escape(note)}[/]", soft_wrap=True)


@app.command("board")
def board(
    run_refs: Annotated[Optional[list[str]], typer.Argument(help=RUN_HELP + " Default: every run.",
                                                          show_default=False, metavar="RUN",
                                                          autocompletion=complete_run_id)] = None,
    port: Annotated[Optional[int], typer.Option("--port", "-p", help="Port on 127.0.0.1 (default: 6006, or "
                                                "a free one).", show_default=False)] = None,
    json_output: JsonFlag = False,
) -> None:
    """Start TensorBoard over runs on 127.0.0.1 and print its URL.

    Every fit writes TensorBoard event files into its run (scalars per epoch and per
    progress update, the model graph, hyperparameters, test images). TensorBoard runs until
    Ctrl-C.
    """
    from rich.markup import escape

    from digitkit.render.console import err, out, print_json
    from digitkit.runs.board import start_board

    started = start_board(run_refs or (), port=port)
    if json_output:
        print_json(started.to_dict())
    else:
        out().print(started.url, highlight=False, markup=False)
    console = err()
    for run_id in started.skipped:
        console.print(f"[dim]skipped {escape(run_id)}: no TensorBoard logs[/]", soft_wrap=True)
    console.print(f"TensorBoard shows {len(started.runs)} run(s); Ctrl-C stops it")
    try:
        started.wait()
    except KeyboardInterrupt:
        pass
    finally:
        started.stop()


@app.command("rm")
def remove(
    run_ref: Annotated[Optional[str], typer.Argument(help=RUN_HELP, show_default=False, metavar="RUN",
                                                     autocompletion=complete_run_id)] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete what earlier failed removals left in the "
                                                         "trash.")] = False,
) -> None:
    """Remove a run directory and everything in it.

    The run is first moved into the home's trash, then deleted: if deletion fails part-way,
    `digitkit runs` lists the trash folder and `digitkit runs rm --purge` finishes it. A run
    that is a symbolic link is removed as a link; the folder it points to is kept.
    """
    from rich.markup import escape

    from digitkit import runs
    from digitkit.errors import UsageError
    from digitkit.render.console import err

    if run_ref is None and not purge:
        raise UsageError("name the run to remove", hint="see `digitkit runs`; `--purge` empties the trash")
    if run_ref is not None:
        run = runs.find_run(run_ref, by_model=False) or _refuse_model_name(run_ref) or runs.get_run(run_ref)
        what = _describe(run)
        if not yes and not typer.confirm(f"remove run {what}?", default=False, err=True):
            raise UsageError("nothing removed", hint="pass --yes to remove without asking")
        link = " (the link only; its target is kept)" if run.path.is_symlink() else ""
        runs.remove_run(run)
        err().print(f"removed run [cyan]{escape(run.id)}[/]{escape(link)}")
    if purge:
        result = runs.purge_trash()
        if result.removed:
            err().print(f"purged {len(result.removed)} folder(s) from the trash")
        elif run_ref is None:
            err().print("the trash is empty")


def _refuse_model_name(ref: str) -> None:
    """A model name is not a run to remove: `runs rm cnn -y` removed the newest of 13 cnn runs."""
    from digitkit.errors import UsageError
    from digitkit.render.runs import short_ids
    from digitkit.runs import RunUnreadable, list_runs

    matching = []
    for run in list_runs():
        try:
            if run.load_manifest().model.lower() == ref.strip().lower():
                matching.append(run.id)
        except RunUnreadable:
            continue
    if not matching:
        return None
    short = short_ids(matching)
    newest = ", ".join(short[run_id] for run_id in reversed(matching[-4:]))
    more = ", ..." if len(matching) > 4 else ""
    raise UsageError(f"{ref} is a model with {len(matching)} run(s); name the one to remove: {newest}{more}",
                     hint="`digitkit runs` lists them")


def _describe(run) -> str:
    """``id (model, label) at path`` for the confirmation prompt; unreadable runs say so."""
    from digitkit.runs import RunUnreadable

    try:
        manifest = run.load_manifest()
    except RunUnreadable:  # an unreadable run can still be removed; the prompt says what it is
        return f"{run.id} (unreadable) at {run.path}"
    label = f", {manifest.name!r}" if manifest.name else ""
    return f"{run.id} ({manifest.model}{label}, {manifest.status}) at {run.path}"
