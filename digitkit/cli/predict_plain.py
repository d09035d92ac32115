"""The `digitkit predict` table as plain text, for output that is not a terminal.

Importing rich's table machinery costs ~50 ms, a tenth of a one-image `digitkit predict`.
When stdout is not a terminal rich draws no colours, so the table is only characters: this
module draws the same characters itself (tests/test_predict_plain.py compares the two) in
the simple cases: ASCII names, and a table that fits the width rich would use once the
input names are folded at ``/`` (:func:`fold_inputs`, shared by both). Anything else
(a terminal, forced colours, wide characters, a table that would wrap) returns ``None`` and
rich draws it.
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

from digitkit.render.paths import fold_path

# Any of these makes rich draw styles or treat the output as a terminal.
_RICH_TERMINAL_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "JPY_PARENT_PID",
                      "VSCODE_VERBOSE_LOGGING")
# The bar's characters: one cell each, like ASCII.
_BLOCKS = "█▏▎▍▌▋▊▉"


def rich_width() -> int:
    """The width rich's Console gives stdout (its ``size`` rule: COLUMNS, else a terminal's width, else 80)."""
    width = None
    for descriptor in (0, 1, 2):
        try:
            width = os.get_terminal_size(descriptor).columns
            break
        except (AttributeError, ValueError, OSError):
            pass
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    return width or 80


def fold_inputs(names: Sequence[str], digits: Sequence[str], statuses: Sequence[str],
                lines: Sequence[Sequence[str]], width: int) -> list[list[str]]:
    """Each input name as the lines of its table cell: whole when the table fits ``width``,
    else folded at ``/`` (docs/index.md: paths folded at ``/``), so a file name is cut only
    when it alone is wider than the column left for it."""
    others = (max([len("digit"), *map(len, digits)]) + max([len("status"), *map(len, statuses)])
              + max([len("top-k"), *(len(x) for c in lines for x in c)])
              + 4 * 2 + 5)  # one space of padding each side of four columns, five rules
    room = max(width - others, len("input"))
    return [[name] if len(name) <= room else fold_path(name, room).split("\n") for name in names]


def plain_table(title: str, rows: Sequence[tuple[Sequence[str], str, str, Sequence[str]]]) -> str | None:
    """The table rich would print for ``rows`` of (input lines, digit, status, top-k lines), or ``None``.

    Args:
        title: the table's title, already printable (no markup).
        rows: the input's printable name as folded by :func:`fold_inputs`, the digit shown,
            its status, and the top-k lines.
    """
    if sys.stdout.isatty() or any(name in os.environ for name in _RICH_TERMINAL_ENV):
        return None
    names = [line for folded, _, _, _ in rows for line in folded]
    lines = [line for _, _, _, cell in rows for line in cell]
    if not rows or any(not cell for _, _, _, cell in rows) or "[" in title:
        return None
    if not all(text and text.isascii() and text.isprintable() for text in [title, *names]):
        return None  # wide characters, escapes: rich measures those
    if not all(line.isprintable() and all(c < "\x80" or c in _BLOCKS for c in line) for line in lines):
        return None
    widths = [max(len("input"), *(len(name) for name in names)),
              max(len("digit"), *(len(digit) for _, digit, _, _ in rows)),
              max(len("status"), *(len(status) for _, _, status, _ in rows)),
              max(len("top-k"), *(len(line) for line in lines))]
    total = sum(widths) + 4 * 2 + 5  # one space of padding each side, five rules
    if total > rich_width() or len(title) > total:
        return None  # rich squeezes columns that do not fit: let it draw that
    out = [title.ljust(total)]
    bars = ["━" * (w + 2) for w in widths]
    out.append("┏" + "┳".join(bars) + "┓")
    out.append("┃ " + " ┃ ".join([_left("input", widths[0]), _centre("digit", widths[1]),
                                   _centre("status", widths[2]), _left("top-k", widths[3])]) + " ┃")
    out.append("┡" + "╇".join(bars) + "┩")
    for folded, digit, status, lines in rows:
        for i in range(max(len(folded), len(lines))):
            cells = [_left(folded[i] if i < len(folded) else "", widths[0]),
                     _centre(digit if i == 0 else "", widths[1]), _centre(status if i == 0 else "", widths[2]),
                     _left(lines[i] if i < len(lines) else "", widths[3])]
            out.append("│ " + " │ ".join(cells) + " │")
    out.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    return "\n".join(out) + "\n"


def _left(text: str, width: int) -> str:
    return text.ljust(width)


def _centre(text: str, width: int) -> str:
    left = (width - len(text)) // 2
    return " " * left + text + " " * (width - len(text) - left)
