"""The root Typer app: global options, command registration, and the one error edge.

Every command module holds one command (or one sub-app) and imports nothing heavy at
module level, so ``--help``, ``list-models`` and completion never load TensorFlow.
"""

from __future__ import annotations

import importlib
import os
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from digitkit import __version__
from digitkit.errors import EXIT_INTERRUPTED, DigitkitError

DEBUG_ENV = "DIGITKIT_DEBUG"


class DigitkitGroup(TyperGroup):
    """Turns :class:`DigitkitError` and Ctrl-C into one line and an exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DigitkitError as exc:
            _report(exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            from digitkit.render.console import err

            err().print("[yellow]interrupted[/]")
            raise typer.Exit(EXIT_INTERRUPTED) from None


def _report(exc: DigitkitError) -> None:
    from rich.markup import escape

    from digitkit.render.console import err

    console = err()
    if os.environ.get(DEBUG_ENV):
        import traceback

        console.print(escape("".join(traceback.format_exception(exc))), end="", soft_wrap=True)
    line = f"[bold red]error:[/] {escape(exc.message)}"
    if exc.hint:
        line += f" [dim]({escape(exc.hint)})[/]"
    console.print(line, soft_wrap=True)


app = typer.Typer(
    cls=DigitkitGroup,
    name="digitkit",
    help="Train, compare, inspect and use handwritten-digit models from the terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"digitkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    home: Annotated[
        Optional[str],
        typer.Option("--home", help="digitkit home for runs and data (default ~/.digitkit, or $DIGITKIT_HOME).",
                     show_default=False),
    ] = None,
) -> None:
    """Train, compare, inspect and use handwritten-digit models from the terminal."""
    from digitkit.home import set_home
    from digitkit.quiet import silence_tensorflow_startup

    if debug:
        os.environ[DEBUG_ENV] = "1"
    set_home(home)
    from digitkit.home import check_for_command

    check_for_command(ctx.invoked_subcommand)  # a home that is a file, read-only or full: one line, now
    silence_tensorflow_startup()


def _register() -> None:
    # One module per command; each exposes `command` (a function) or `app` (a sub-app).
    from digitkit.cli import (
        bench, datasets, evaluate, export, fit, info, list_models, plugin_new, plugins, predict,
        preview, report, runs, show_model,
    )

    for name, module in [
        ("list-models", list_models), ("show-model", show_model), ("datasets", datasets),
        ("preview", preview), ("fit", fit), ("evaluate", evaluate), ("predict", predict),
        ("export", export), ("report", report), ("bench", bench), ("info", info),
    ]:
        app.command(name)(module.command)
    app.command("serve")(importlib.import_module("digitkit.cli.serve").command)
    app.add_typer(runs.app, name="runs")
    app.add_typer(plugins.app, name="plugins")
    app.add_typer(plugin_new.app, name="plugin")


_register()


def _terminate_as_interrupt(signum, frame) -> None:
    """SIGTERM ends a command like Ctrl-C: "interrupted", exit 130, nothing half-written.

    The KeyboardInterrupt unwinds through the same ``finally`` blocks and atomic writes as
    Ctrl-C does. A second SIGTERM while unwinding ends the process at once (exit 143).
    """
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    import signal

    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        app()
    except KeyboardInterrupt:  # a signal outside a command body (option parsing, completion)
        from digitkit.render.console import err

        err().print("[yellow]interrupted[/]")
        raise SystemExit(EXIT_INTERRUPTED) from None
