"""`digitkit plugins`: distributions that provide models, broken ones, and conformance checks."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import JsonFlag, complete_model_name

app = typer.Typer(help="Model plugins: what is installed, what is broken.", invoke_without_command=True)


@app.callback()
def plugins(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """List distributions that provide models, their versions, and broken plugins."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.markup import escape

    from digitkit.plugins import registry
    from digitkit.render.console import out, print_json
    from digitkit.render.models import plugins_table

    reg = registry.get_registry()
    if json_output:
        print_json({
            "plugins": [
                {"distribution": p.distribution, "version": p.version, "builtin": p.builtin,
                 "models": [m.spec.name for m in reg.models.values() if m.provider == p]}
                for p in reg.providers()
            ],
            "broken": [{"name": b.name, "distribution": b.provider.distribution, "version": b.provider.version,
                        "entry_point": b.entry_point, "error": b.error} for b in reg.broken],
            "duplicates": [{"name": d.name, "winner": d.winner.distribution,
                            "losers": [p.distribution for p in d.losers], "reason": d.reason}
                           for d in reg.duplicates],
        })
        return
    console = out()
    console.print(plugins_table(reg))
    for b in reg.broken:
        console.print(f"[red]broken[/] {escape(b.name)} from {escape(b.provider.distribution)} "
                      f"{escape(b.provider.version)}: {escape(b.error)}")
    for d in reg.duplicates:
        losers = ", ".join(p.distribution for p in d.losers)
        console.print(f"[yellow]duplicate[/] {escape(d.name)}: {escape(d.winner.distribution)} wins over "
                      f"{escape(losers)} ({escape(d.reason)})")


@app.command("check")
def check(
    name: Annotated[
        Optional[str],
        typer.Argument(help="Model to check (default: every model a plugin provides).",
                       autocompletion=complete_model_name, show_default=False),
    ] = None,
    builtins: Annotated[bool, typer.Option("--builtins", help="Without NAME, check the built-in zoo too.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Run the plugin conformance checks on installed models and print a pass/fail table.

    The same checks as `digitkit.plugins.testing.assert_conforms` in a plugin's tests: metadata,
    import without TensorFlow, build, shapes, params, finite outputs, logits/probabilities,
    save/load round trip, training lowers the loss. Exits with code 5 if any check fails.
    """
    from rich.markup import escape

    from digitkit.errors import PluginError
    from digitkit.plugins.testing import check_installed
    from digitkit.render.console import err, out, print_json, working

    status = err()
    with working("loading the plugins ...", plain=True) as say:  # each check builds and trains: seconds each
        report = check_installed(name, builtins=builtins, on_model=lambda model: say(f"checking {escape(model)} ..."))
    if json_output:
        print_json({"models": {model: [r.to_dict() for r in results] for model, results in report.items()}})
    elif not report:
        # One command per line, and the listed `plugins new` (not the hidden `plugin new`).
        status.print("no plugin models installed\n  digitkit plugins check --builtins   checks the zoo\n"
                     "  digitkit plugins new NAME          starts a plugin", soft_wrap=True)
        return
    else:
        out().print(_results_table(report))
    failing = [model for model, results in report.items() if any(r.failed for r in results)]
    if failing:
        raise PluginError(f"{len(failing)} of {len(report)} model(s) fail conformance: {', '.join(failing)}",
                          hint="see the detail column; docs/plugins.md explains each check")
    if not json_output:
        status.print(f"[green]{len(report)} model(s) conform[/]")


def _results_table(report):
    from rich.markup import escape
    from rich.table import Table

    styles = {"pass": "[green]pass[/]", "fail": "[bold red]FAIL[/]", "skip": "[dim]skip[/]"}
    table = Table(title="plugin conformance", title_justify="left")
    table.add_column("model", style="bold cyan", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail")
    for model, results in report.items():
        for index, result in enumerate(results):
            table.add_row(escape(model) if index == 0 else "", result.check, styles[result.status],
                          escape(result.detail))
        table.add_section()
    return table
