"""`digitkit runs`: list, show and remove training runs (no TensorFlow)."""

from __future__ import annotations

from typing import Annotated

import typer

from digitkit.cli.options import JsonFlag, RunId

app = typer.Typer(help="List, show and remove training runs.", no_args_is_help=False, invoke_without_command=True)


@app.callback(invoke_without_command=True)
def list_runs(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """List training runs, oldest first (id, model, dataset, epochs, test accuracy, time, status)."""
    if ctx.invoked_subcommand is not None:
        return
    from digitkit import runs
    from digitkit.render.console import err, out, print_json
    from digitkit.render.runs import run_row, runs_table

    rows = []
    for run in runs.list_runs():
        try:
            rows.append(run_row(run.manifest))
        except Exception:  # one unreadable manifest must not hide the others
            rows.append({**run_row({"id": run.id}), "status": "unreadable"})
    if json_output:
        print_json(rows)
    elif not rows:
        err().print("no runs yet; train one with `digitkit fit MODEL`")
    else:
        out().print(runs_table(rows))


@app.command("show")
def show(run_id: RunId, json_output: JsonFlag = False) -> None:
    """Show a run's manifest and a summary of its history."""
    from digitkit import runs
    from digitkit.render.console import out, print_json
    from digitkit.render.runs import run_detail

    run = runs.get_run(run_id)
    manifest, history = run.manifest, run.read(runs.HISTORY_JSON)
    if json_output:
        print_json({"manifest": manifest, "history": history})
        return
    files = sorted(p.name + ("/" if p.is_dir() else "") for p in run.path.iterdir() if not p.name.startswith("."))
    out().print(run_detail(manifest, history, files))


@app.command("rm")
def remove(run_id: RunId,
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False) -> None:
    """Remove a run directory and everything in it."""
    from rich.markup import escape

    from digitkit import runs
    from digitkit.errors import UsageError
    from digitkit.render.console import err

    run = runs.get_run(run_id)
    if not yes and not typer.confirm(f"remove run {run.id} ({run.path})?", default=False, err=True):
        raise UsageError("nothing removed", hint="pass --yes to remove without asking")
    runs.remove_run(run.id)
    err().print(f"removed run [cyan]{escape(run.id)}[/]")
