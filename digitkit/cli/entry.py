"""The ``digitkit`` console script: a plain ``digitkit predict`` starts without Typer.

Typer (with Click and pydantic behind it) takes longer to import than the whole LiteRT
prediction of one image. For the common forms of ``digitkit predict`` (image paths and the
options of :mod:`digitkit.cli.predict_options`, the one declaration the Typer command is
made from too, with valid values) the arguments are read here and handed to the same function the Typer command calls; anything else
(``--help``, global options, an unknown option, a value out of range, shell completion)
goes to the Typer app, which parses and reports exactly as before. ``tests/test_entry.py``
checks both parsers agree.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Sequence

from digitkit._internal.declared import fast_table
from digitkit.cli.predict_options import OPTIONS

# The Typer command's own table, by spelling (digitkit.cli.predict_options declares it once).
VALUE_OPTIONS, FLAGS = fast_table(OPTIONS)


def parse_predict(args: Sequence[str]) -> dict[str, Any] | None:
    """Keyword arguments for :func:`digitkit.cli.predict_output.run`, or ``None`` to let Typer parse.

    Args:
        args: the arguments after ``predict``.
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
        if name in FLAGS and not has_value:
            options[FLAGS[name].name] = True
            continue
        if name not in VALUE_OPTIONS:
            return None  # --help, --, an unknown option, a short-option cluster
        if not has_value:
            if index >= len(items):
                return None
            value = items[index]
            index += 1
        declared = VALUE_OPTIONS[name]
        try:
            options[declared.name] = declared.parse(value)
        except ValueError:
            return None  # Typer words the refusal
    if not paths:
        return None
    return {"paths": paths, **options}


def _fast_predict(args: Sequence[str]) -> int | None:
    """Run `digitkit predict` without Typer; ``None`` when Typer must handle these arguments.

    Signals are :func:`main`'s: a ``KeyboardInterrupt`` (Ctrl-C, or SIGTERM) goes through.
    """
    options = parse_predict(args)
    if options is None:
        return None
    from digitkit.errors import DigitkitError
    from digitkit._internal.quiet import silence_tensorflow_startup

    silence_tensorflow_startup()
    try:
        from digitkit._internal.settings import check_all
        from digitkit.cli.predict_output import run

        check_all()

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
            if args[:1] in (["predict"], ["read"]) and "_DIGITKIT_COMPLETE" not in os.environ:
                if args[0] == "read":
                    from digitkit.cli.read_entry import fast_read

                    code = fast_read(args[1:])
                else:
                    code = _fast_predict(args[1:])
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
