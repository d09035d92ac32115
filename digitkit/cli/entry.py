"""The ``digitkit`` console script: a plain ``digitkit predict`` or ``read`` starts without Typer.

Typer (with Click and pydantic behind it) takes longer to import than the whole LiteRT
prediction of one image. For the common forms of ``digitkit predict`` and ``digitkit read``
(paths and the options of :mod:`digitkit.cli.predict_options` / :mod:`digitkit.cli.read_options`,
the declarations the Typer commands are made from too, with valid values) the arguments are
read here and handed to the same function the Typer command calls; anything else
(``--help``, global options, an unknown option, a value out of range, shell completion)
goes to the Typer app, which parses and reports exactly as before. ``tests/test_entry.py``
and ``tests/test_reading_cli.py`` check both parsers agree.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Sequence

from digitkit._internal.declared import Declared, fast_table
from digitkit.cli import predict_options, read_options

# Each command with a fast path: its Typer command's own option table, by spelling, and the
# module whose run() the Typer command calls.
FAST: dict[str, tuple[tuple[dict[str, Declared], dict[str, Declared]], str]] = {
    "predict": (fast_table(predict_options.OPTIONS), "digitkit.cli.predict_output"),
    "read": (fast_table(read_options.OPTIONS), "digitkit.cli.read_output"),
}
VALUE_OPTIONS, FLAGS = FAST["predict"][0]


def parse_predict(args: Sequence[str]) -> dict[str, Any] | None:
    """Keyword arguments for :func:`digitkit.cli.predict_output.run`, or ``None`` to let Typer parse."""
    return parse_fast(args, *FAST["predict"][0])


def parse_read(args: Sequence[str]) -> dict[str, Any] | None:
    """Keyword arguments for :func:`digitkit.cli.read_output.run`, or ``None`` to let Typer parse."""
    return parse_fast(args, *FAST["read"][0])


def parse_fast(args: Sequence[str], values: dict[str, Declared], flags: dict[str, Declared]) -> dict[str, Any] | None:
    """Keyword arguments from ``args`` (the arguments after the command), or ``None`` to let Typer parse.

    Args:
        args: the arguments after the command's name.
        values, flags: the command's options that take a value, and its flags, by spelling.
    """
    options: dict[str, Any] = {}
    paths: list[str] = []
    items = list(args)
    index = 0
    while index < len(items):
        item = items[index]
        index += 1
        if item == "-" or not item.startswith("-"):
            paths.append(item)
            continue
        name, has_value, value = item.partition("=")
        if name in flags and not has_value:
            options[flags[name].name] = True
            continue
        if name not in values:
            return None  # --help, --, an unknown option, a short-option cluster
        if not has_value:
            if index >= len(items):
                return None
            value = items[index]
            index += 1
        declared = values[name]
        try:
            options[declared.name] = declared.parse(value)
        except ValueError:
            return None  # Typer words the refusal
    if not paths:
        return None
    return {"paths": paths, **options}


def _fast(command: str, args: Sequence[str]) -> int | None:
    """Run `digitkit predict` or `read` without Typer; ``None`` when Typer must handle these arguments.

    Signals are :func:`main`'s: a ``KeyboardInterrupt`` (Ctrl-C, or SIGTERM) goes through.
    """
    tables, module = FAST[command]
    options = parse_fast(args, *tables)
    if options is None:
        return None
    import importlib

    from digitkit.errors import DigitkitError
    from digitkit._internal.quiet import silence_tensorflow_startup

    silence_tensorflow_startup()
    try:
        from digitkit._internal.settings import check_all

        check_all()
        run = importlib.import_module(module).run

        paths = options.pop("paths")
        run(paths, **options)
        sys.stdout.flush()  # inside the edge: a full disk is reported, not raised at exit
    except DigitkitError as exc:
        from digitkit.cli.app import _report

        _report(exc)
        return exc.exit_code
    except OSError as exc:  # stdout on a full disk, or a closed pipe: one line
        from digitkit.cli.output_errors import is_output_error

        if not is_output_error(exc):
            raise
        from digitkit.cli.app import _report_output_error

        return _report_output_error(exc)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point, and the outermost edge for signals.

    SIGTERM becomes Ctrl-C from the first line on, before Typer, rich or TensorFlow are
    imported, so a signal at any moment of any command ends it with ``interrupted`` and exit
    code 130 (docs/reliability.md); the command-level edge (:class:`digitkit.cli.app.DigitkitGroup`)
    says the same for signals inside a command.
    """
    from digitkit.cli.signals import interrupted, sigterm_as_interrupt

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with sigterm_as_interrupt():
            if args[:1] and args[0] in FAST and "_DIGITKIT_COMPLETE" not in os.environ:
                code = _fast(args[0], args[1:])
                if code is not None:
                    sys.stdout.flush()
                    raise SystemExit(code)
            if args[:1] == ["list-models"] and "_DIGITKIT_COMPLETE" not in os.environ:
                from digitkit.cli.list_models_output import fast

                code = fast(args[1:])  # without Typer (pydantic): see list_models_output
                if code is not None:
                    raise SystemExit(code)
            from digitkit.cli.app import main as typer_main

            typer_main()
    except KeyboardInterrupt:  # while importing, or between the command and the exit
        raise SystemExit(interrupted()) from None
