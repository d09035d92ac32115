"""Paths that fit a column: shortened under the home folder, folded only at separators."""

from __future__ import annotations

import os
import re

# Folded after this system's separators only: on POSIX a backslash belongs to the name (an
# escaped control character in a file name is shown as ``\x1b``, and must not be split there).
_SEPARATORS = re.escape(os.sep + (os.altsep or ""))
_PIECES = re.compile(f"[^{_SEPARATORS}]*[{_SEPARATORS}]|[^{_SEPARATORS}]+$")


def short_path(path: str) -> str:
    """``/home/ada/.digitkit/runs`` -> ``~/.digitkit/runs``; other paths unchanged."""
    home = os.path.expanduser("~")
    text = str(path)
    if home not in ("", "/", "~") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home):]
    return text


def fold_path(path: str, width: int) -> str:
    """``path`` on lines of at most ``width`` characters, broken after ``/`` where possible.

    A single name longer than ``width`` is the only thing ever cut mid-word.
    """
    width = max(width, 8)
    lines: list[str] = []
    line = ""
    for piece in _PIECES.findall(str(path)):
        while len(piece) > width:  # one name wider than the column
            if line:
                lines.append(line)
                line = ""
            lines.append(piece[:width])
            piece = piece[width:]
        if len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    if line:
        lines.append(line)
    return "\n".join(lines)
