"""What `digitkit list-models` prints; no Typer here, so the console script can run it directly.

Typer checks every option through pydantic, whose import alone took `list-models` from about
the time of `digitkit --version` to 2.5 times it. :func:`parse` reads the common forms
(``[PATTERN] [--json] [--wide|-w]``) and :func:`run` is the body the Typer command calls too;
anything else (``--help``, a global option, an unknown option) goes to Typer.
"""

from __future__ import annotations

from typing import Any, Sequence


def parse(args: Sequence[str]) -> dict[str, Any] | None:
    """Keyword arguments for :func:`run`, or ``None`` to let Typer parse ``args``."""
    options: dict[str, Any] = {"pattern": None, "wide": False, "json_output": False}
    for arg in args:
        if arg == "--json":
            options["json_output"] = True
        elif arg in ("--wide", "-w"):
            options["wide"] = True
        elif not arg.startswith("-") and options["pattern"] is None:
            options["pattern"] = arg
        else:
            return None
    return options


def run(pattern: str | None = None, wide: bool = False, json_output: bool = False) -> None:
    """List the installed models (the body of `digitkit list-models`)."""
    from digitkit import pretrained
    from digitkit.errors import UsageError
    from digitkit.plugins import registry
    from digitkit.render.console import err, out, print_json

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
        from digitkit.render.models import models_table

        out().print(models_table(models, wide=wide, pretrained=shipped))
        if shipped & {m.spec.name for m in models}:
            err().print("✓ ships pretrained weights: `--model NAME@pretrained` (see docs/pretrained.md)")
    broken = registry.get_registry().broken
    if broken:
        err().print(f"[yellow]{len(broken)} plugin entry point(s) broken; see `digitkit plugins`[/]")


def fast(args: Sequence[str]) -> int | None:
    """Run `digitkit list-models ARGS` without Typer; ``None`` when Typer must parse them."""
    options = parse(args)
    if options is None:
        return None
    from digitkit.errors import DigitkitError

    try:
        from digitkit._internal.settings import check_all

        check_all()
        run(**options)
        import sys

        sys.stdout.flush()  # inside the edge: a full disk is reported, not raised at exit
    except DigitkitError as exc:
        from digitkit.cli.app import _report

        _report(exc)
        return exc.exit_code
    except OSError as exc:
        from digitkit.cli.output_errors import is_output_error

        if not is_output_error(exc):
            raise
        from digitkit.cli.app import _report_output_error

        return _report_output_error(exc)
    return 0
