"""The `digitkit predict` table as plain text, for output that is not a terminal.

Importing rich's table machinery costs ~50 ms, a tenth of a one-image `digitkit predict`.
When stdout is not a terminal rich draws no colours, so the table is only characters: this
module draws the same characters itself (tests/test_predict_plain.py compares the two) in
the simple cases: ASCII names, and a table that fits the width rich would use or fits
once the input column folds (as rich folds it). Anything else
(a terminal, forced colours, wide characters, a table that would wrap) returns ``None`` and
rich draws it.
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

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


def plain_table(title: str, rows: Sequence[tuple[str, str, str, Sequence[str]]]) -> str | None:
    """The table rich would print for ``rows`` of (input, digit, status, top-k lines), or ``None``.

    Args:
        title: the table's title, already printable (no markup).
        rows: the input's printable name, the digit shown, its status, and the top-k lines.
    """
    if sys.stdout.isatty() or any(name in os.environ for name in _RICH_TERMINAL_ENV):
        return None
    names = [name for name, _, _, _ in rows]
    lines = [line for _, _, _, cell in rows for line in cell]
    if not rows or any(not cell for _, _, _, cell in rows) or "[" in title:
        return None
    if not all(text and text.isascii() and text.isprintable() for text in [title, *names]):
        return None  # wide characters, escapes: rich measures those
    if not all(line.isprintable() and all(c < "\x80" or c in _BLOCKS for c in line) for line in lines):
        return None
    widths = [max(len("input"), *(len(name) for name, _, _, _ in rows)),
              max(len("digit"), *(len(digit) for _, digit, _, _ in rows)),
              max(len("status"), *(len(status) for _, _, status, _ in rows)),
              max(len("top-k"), *(len(line) for _, _, _, cell in rows for line in cell))]
    excess = sum(widths) + 4 * 2 + 5 - rich_width()
    if excess > 0:
        # Rich narrows the widest wrapping column first (input, then digit); we follow it only
        # while the input column alone gives way and its names fold without word breaks.
        if widths[0] - excess < widths[1] or any(any(c.isspace() for c in name) for name in names):
            return None
        widths[0] -= excess
    total = sum(widths) + 4 * 2 + 5  # one space of padding each side, five rules
    if len(title) > total:
        return None
    out = [title.ljust(total)]
    bars = ["━" * (w + 2) for w in widths]
    out.append("┏" + "┳".join(bars) + "┓")
    out.append("┃ " + " ┃ ".join([_left("input", widths[0]), _centre("digit", widths[1]),
                                   _centre("status", widths[2]), _left("top-k", widths[3])]) + " ┃")
    out.append("┡" + "╇".join(bars) + "┩")
    for name, digit, status, lines in rows:
        folded = [name[i:i + widths[0]] for i in range(0, len(name), widths[0])]
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
