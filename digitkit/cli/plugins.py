"""`digitkit plugins`: distributions that provide models, and broken ones."""

from __future__ import annotations

import typer

from digitkit.cli.options import JsonFlag

app = typer.Typer(help="Model plugins: what is installed, what is broken.", invoke_without_command=True)


@app.callback()
def plugins(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """List distributions that provide models, their versions, and broken plugins."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.markup import escape

    from digitkit import registry
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
