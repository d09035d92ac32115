"""The root Typer app: global options, command registration, and the one error edge.

Every command module holds one command (or one sub-app) and imports nothing heavy at
module level, so ``--help``, ``list-models`` and completion never load TensorFlow.

Help is plain click help (``rich_markup_mode=None``): flags read as flags, paragraphs are
re-wrapped to the terminal, and every error is one line on stderr, whether it comes from
digitkit (:class:`DigitkitError`) or from parsing the command line (click's usage errors).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from digitkit import __version__
from digitkit.cli.output_errors import flush_stdout, is_output_error, output_error
from digitkit.cli.usage import hoist_global_options, tidy_params
from digitkit.errors import EXIT_FAILURE, EXIT_INTERRUPTED, DigitkitError

DEBUG_ENV = "DIGITKIT_DEBUG"


class DigitkitGroup(TyperGroup):
    """The root group: one error style, global options anywhere, tidy usage lines."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tidy_params(self)

    def main(self, args: Any = None, prog_name: Optional[str] = None, complete_var: Optional[str] = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        args = hoist_global_options(list(sys.argv[1:] if args is None else args))
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            flush_stdout()  # here, where a full disk can still be reported, not at interpreter exit
        except _click_exception() as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `digitkit` alone: the help, not an error
                exc.show()
            else:
                _report_usage(exc)
            sys.exit(exc.exit_code)
        except typer.Abort:
            _report_line("aborted")
            sys.exit(EXIT_FAILURE)
        except OSError as exc:
            if not is_output_error(exc):
                raise
            sys.exit(_report_output_error(exc))  # `digitkit --version > /dev/full`
        sys.exit(code if isinstance(code, int) else 0)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        # Typer turns a KeyboardInterrupt while parsing the root's options into a silent
        # Exit(130); say "interrupted" as everywhere else.
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            _report_line("[yellow]interrupted[/]")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DigitkitError as exc:
            _report(exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _report_line("[yellow]interrupted[/]")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except OSError as exc:  # before click's own EPIPE handling, which exits 1 silently
            if not is_output_error(exc):
                raise
            raise typer.Exit(_report_output_error(exc)) from None


def _report_output_error(exc: OSError) -> int:
    """One line for stdout that cannot be written; returns the exit code."""
    error = output_error(exc)
    try:
        _report(error)
    except OSError:  # stderr is gone too (`2>&1 | head`): the exit code says it
        pass
    return error.exit_code


def _click_exception() -> type:
    # Typer 0.2x vendors click as typer._click; older releases use click itself.
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click.exceptions import ClickException
    return ClickException


def _report_line(markup: str) -> None:
    from digitkit.render.console import err

    err().print(markup, soft_wrap=True)


def _report(exc: DigitkitError) -> None:
    from rich.markup import escape

    if os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        import traceback

        _report_line(escape("".join(traceback.format_exception(exc))).rstrip("\n"))
    line = f"[bold red]error:[/] {escape(exc.message)}"
    if exc.hint:
        line += f" [dim]({escape(exc.hint)})[/]"
    _report_line(line)


def _report_usage(exc: Any) -> None:
    """A command-line mistake, in the same one-line style as every other error."""
    from rich.markup import escape

    message = exc.format_message().replace("Value error, ", "").rstrip(".")
    message = message[:1].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    hint = f" [dim](see `{escape(ctx.command_path)} --help`)[/]" if ctx is not None else ""
    _report_line(f"[bold red]error:[/] {escape(message)}{hint}")


app = typer.Typer(
    cls=DigitkitGroup,
    name="digitkit",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
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
        typer.Option("--home", metavar="DIR", show_default=False,
                     help="digitkit home for runs and data (default ~/.digitkit, or $DIGITKIT_HOME)."),
    ] = None,
) -> None:
    """Train, compare, inspect and use handwritten-digit models from the terminal.

    --home and --debug may also come after the command.
    """
    from digitkit.home import set_home
    from digitkit._internal.quiet import silence_tensorflow_startup

    from digitkit._internal.settings import check_all

    if debug:
        os.environ[DEBUG_ENV] = "1"
    check_all()  # DIGITKIT_* values digitkit cannot read: one line now, not a silent default later
    set_home(home)
    from digitkit.home import check_for_command

    check_for_command(ctx.invoked_subcommand)  # a home that is a file, read-only or full: one line, now
    silence_tensorflow_startup()


def _register() -> None:
    # One module per command; each exposes `command` (a function) or `app` (a sub-app).
    from digitkit.cli import (
        bench, datasets, evaluate, export, fit, info, label, list_models, plugin_new, plugins, predict,
        preview, read, report, runs, show_model,
    )

    # Short help for `digitkit --help`: each fits one 80-column line uncut (the full first line
    # of every docstring is the command's own --help).
    for name, module, short in [
        ("list-models", list_models, "List the installed models, one line each."),
        ("show-model", show_model, "Show a model's metadata, recipe and layers."),
        ("datasets", datasets, "List the datasets digitkit can read; prepare one."),
        ("preview", preview, "Show dataset digits or image files in the terminal."),
        ("label", label, "Label pictures of your handwriting in the terminal."),
        ("fit", fit, "Train a model with its recipe and save the run."),
        ("evaluate", evaluate, "Score a trained model: metrics, confusions, mistakes."),
        ("predict", predict, "Predict the digit in images of handwritten digits."),
        ("read", read, "Read the whole number in pictures of handwritten digits."),
        ("export", export, "Export a trained model (litert by default), checked."),
        ("report", report, "Write an HTML or Markdown report of runs."),
        ("bench", bench, "Train and compare several models on the same data."),
        ("info", info, "Show versions, devices and where files live."),
    ]:
        app.command(name, short_help=short)(module.command)
    app.command("serve", short_help="Serve predictions: a web page and a JSON API.")(
        importlib.import_module("digitkit.cli.serve").command)
    app.add_typer(runs.app, name="runs", short_help="List, show and remove training runs.")
    # One group for plugins: `plugins new` scaffolds one; `plugin new` still works, unlisted.
    plugins.app.command("new")(plugin_new.new)
    app.add_typer(plugins.app, name="plugins", short_help="Installed model plugins; check them, start a new one.")
    app.add_typer(plugin_new.app, name="plugin", hidden=True)


_register()


def main() -> None:
    """Run the Typer app with SIGTERM as Ctrl-C (the console script, :func:`digitkit.cli.entry.main`, comes here)."""
    from digitkit.cli.signals import interrupted, sigterm_as_interrupt

    try:
        with sigterm_as_interrupt():
            app()
    except KeyboardInterrupt:  # a signal outside a command body (building the app, completion)
        raise SystemExit(interrupted()) from None
