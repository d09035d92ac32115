"""The two consoles: data on stdout (so ``--json | jq`` works), status on stderr.

Consoles are made per call so that ``NO_COLOR``, ``COLUMNS`` and redirected streams are
read when output happens, not at import.

Both consoles escape C0/C1 control characters in everything they render (file names,
manifest notes, plugin names reach them inside tables and markup): rich escapes markup but
not control characters, so an ESC in a file name would otherwise reach the terminal. Rich's
own colours and cursor moves are added after this point and are unaffected. Strings are
escaped before they become rich Text (so table columns are measured on what is shown);
code that builds a ``Text`` from user text itself should pass it through
:func:`digitkit.errors.printable` for the same reason.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any, Callable, Iterator

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.segment import Segment

from digitkit.errors import escape_controls, printable

__all__ = ["out", "err", "escape", "printable", "print_json", "status", "working", "PrintableConsole"]

# rich imports its Unicode width table on the first non-ASCII text it measures: done once here.
# (The traceback a spinner thread used to print while tensorflow_datasets imported itself is
# closed at its root: digitkit._internal.thread_imports keeps etils' import hook in its thread.)
cell_len("…")


class PrintableConsole(Console):
    """A rich Console that never writes a control character it did not make itself."""

    def render_str(self, text: str, **kwargs):
        # Strings (markup) become Text here: escaping first keeps table column widths right.
        return super().render_str(escape_controls(text, keep_newlines=True), **kwargs)

    def render(self, renderable, options=None):
        for segment in super().render(renderable, options):
            if segment.control or segment.text.isprintable() or segment.text == "\n":
                yield segment
            else:
                yield Segment(escape_controls(segment.text, keep_newlines=True), segment.style)


def out() -> Console:
    """Console for results (stdout)."""
    return PrintableConsole(file=sys.stdout, highlight=False, soft_wrap=False)


def err() -> Console:
    """Console for progress, notes and errors (stderr)."""
    return PrintableConsole(file=sys.stderr, highlight=False, stderr=True)


def print_json(data: Any) -> None:
    """Plain JSON on stdout: no colour, no wrapping, safe to pipe."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def working(message: str, *, plain: bool = False) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr saying what takes a while (TensorFlow, a download, a build).

    Yields a function that changes the message. Off a terminal nothing redraws: with
    ``plain`` each later message is printed as a line, else nothing is shown.
    ``message`` may hold markup; user text must be escaped.
    """
    console = err()
    if console.is_terminal:
        with console.status(message) as spinner:
            yield spinner.update
        return
    yield (lambda text: console.print(text, soft_wrap=True)) if plain else (lambda text: None)


def status(message: str) -> None:
    """One status line on stderr; ``message`` may hold markup, user text must be escaped."""
    err().print(message)
