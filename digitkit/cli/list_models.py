"""`digitkit list-models`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import JsonFlag


def command(
    pattern: Annotated[
        Optional[str], typer.Argument(help="Filter: a wildcard pattern ('dense*') or a substring.",
                                      show_default=False)
    ] = None,
    wide: Annotated[bool, typer.Option("--wide", "-w", help="Show each model's training recipe and provider version.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """List the installed models, built-in and from plugins, one line each."""
    from digitkit import pretrained
    from digitkit.plugins import registry
    from digitkit.errors import UsageError
    from digitkit.render.console import err, out, print_json
    from digitkit.render.models import models_table

    models = registry.list_models(pattern)
    shipped = set(pretrained.names())
    if pattern and not models:
        raise UsageError(f"no model matches {pattern!r}", hint="`digitkit list-models` lists them all")
    if json_output:
        print_json([{**m.spec.metadata(), "pretrained": m.spec.name in shipped,
                     "provider": {"distribution": m.provider.distribution, "version": m.provider.version}}
                    for m in models])
        return
    if not models:
        err().print("no models installed")
    else:
        out().print(models_table(models, wide=wide, pretrained=shipped))
        if shipped & {m.spec.name for m in models}:
            err().print("✓ ships pretrained weights: `--model NAME@pretrained` (see docs/pretrained.md)")
    broken = registry.get_registry().broken
    if broken:
        err().print(f"[yellow]{len(broken)} plugin entry point(s) broken; see `digitkit plugins`[/]")
