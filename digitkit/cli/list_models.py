"""`digitkit list-models`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import JsonFlag


def command(
    pattern: Annotated[
        Optional[str], typer.Argument(help="Filter: a wildcard pattern ('dense*') or a substring.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """List the installed models, built-in and from plugins."""
    from digitkit import pretrained, registry
    from digitkit.render.console import err, out, print_json
    from digitkit.render.models import models_table

    models = registry.list_models(pattern)
    shipped = set(pretrained.names())
    if json_output:
        print_json([{**m.spec.metadata(), "pretrained": m.spec.name in shipped,
                     "provider": {"distribution": m.provider.distribution, "version": m.provider.version}}
                    for m in models])
        return
    if not models:
        err().print(f"no model matches {pattern!r}" if pattern else "no models installed")
    else:
        out().print(models_table(models, shipped))
        if shipped & {m.spec.name for m in models}:
            err().print("✓ ships pretrained weights: `--model NAME@pretrained` (see docs/pretrained.md)")
    broken = registry.get_registry().broken
    if broken:
        err().print(f"[yellow]{len(broken)} plugin entry point(s) broken; see `digitkit plugins`[/]")
