"""A plain ``digitkit read`` without Typer, as :mod:`digitkit.cli.entry` does for ``predict``.

Typer (with Click behind it) takes about as long to import as reading one picture. The
common forms of ``digitkit read`` (pictures and the options below, with valid values) are
parsed here and handed to the function the Typer command calls; anything else (``--help``,
an unknown option, a value out of range, global options) goes to the Typer app, which
parses and reports as usual. ``tests/test_reading_cli.py`` checks both parsers agree.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Sequence

VALUE_OPTIONS: dict[str, tuple[str, Callable[[str], Any], Callable[[Any], bool]]] = {
    "--model": ("model", str, lambda v: True),
    "-m": ("model", str, lambda v: True),
    "--top-k": ("top_k", int, lambda v: 1 <= v <= 10),
    "-k": ("top_k", int, lambda v: 1 <= v <= 10),
    "--digits": ("digits", int, lambda v: 1 <= v <= 200),
    "--backend": ("backend", str, lambda v: v in ("auto", "litert", "keras")),
}
FLAGS = {"--json": "json_output", "--jsonl": "jsonl_output", "--csv": "csv_output", "--keep-marks": "keep_marks",
         "--strict": "strict"}


def parse_read(args: Sequence[str]) -> dict[str, Any] | None:
    """Keyword arguments for :func:`digitkit.cli.read_output.run`, or ``None`` to let Typer parse."""
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
            options[FLAGS[name]] = True
            continue
        if name not in VALUE_OPTIONS:
            return None
        if not has_value:
            if index >= len(items):
                return None
            value = items[index]
            index += 1
        keyword, convert, check = VALUE_OPTIONS[name]
        try:
            converted = convert(value)
        except ValueError:
            return None
        if not check(converted):
            return None
        options[keyword] = converted
    if not paths:
        return None
    return {"paths": paths, **options}


def fast_read(args: Sequence[str]) -> int | None:
    """Run `digitkit read` without Typer; ``None`` when Typer must handle these arguments."""
    options = parse_read(args)
    if options is None:
        return None
    from digitkit.errors import DigitkitError
    from digitkit._internal.quiet import silence_tensorflow_startup

    silence_tensorflow_startup()
    try:
        from digitkit.cli.read_output import run

        paths = options.pop("paths")
        run(paths, **options)
    except DigitkitError as exc:
        from digitkit.cli.app import _report

        _report(exc)
        return exc.exit_code
    except BrokenPipeError:  # `digitkit read dir --csv | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0
