"""The `digitkit datasets` listing, laid out for 80 columns.

One line per dataset (name, kind, status, splits) and its location on the line under it,
indented: a location squeezed into a table column folded over three or four lines, and a
long clone path cut folder names; on its own line it folds only when it is wider than the
terminal, and then at ``/``.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.text import Text

from digitkit.render.paths import fold_path, short_path

STATUS_STYLE = {"ready": "green", "not prepared": "yellow", "damaged": "red"}
# Short names keep the table one screen wide; `--json` keeps the full kind.
KIND_SHORT = {"tensorflow-datasets": "tfds"}
GAP = 2
INDENT = 2
NAME_WIDTH = 26  # longer names fold at "/"
HEADERS = ("dataset", "kind", "status", "splits")


def sizes(splits: dict[str, int]) -> str:
    """'train 60,000, test 10,000' (spaces only between entries, so a number never splits)."""
    return ", ".join(f"{name}\u00a0{count:,}" for name, count in splits.items()) or "-"


def _wrap_sizes(text: str, width: int) -> list[str]:
    """``sizes()`` on lines of at most ``width``, broken only after a comma."""
    lines: list[str] = []
    for part in text.split(", "):
        if lines and len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += ", " + part
        else:
            if lines:
                lines[-1] += ","
            lines.append(part)
    return lines


def datasets_table(entries: Sequence[Any], width: int) -> Text:
    """The listing: a header, then per dataset its row and its location (dim, indented)."""
    rows = [[entry.name + (" (default)" if entry.default else ""), KIND_SHORT.get(entry.kind, entry.kind),
             entry.status, sizes(entry.splits)] for entry in entries]
    widths = [max([len(HEADERS[0])] + [min(len(r[0]), NAME_WIDTH) for r in rows]),
              max([len(HEADERS[1])] + [len(r[1]) for r in rows]),
              max([len(HEADERS[2])] + [len(r[2]) for r in rows])]
    splits_width = max(width - sum(widths) - GAP * len(widths), max([len(HEADERS[3])] + [
        len(part) + 1 for r in rows for part in r[3].split(", ")]))
    text = Text(no_wrap=True, overflow="ignore")
    header = "".join(h.ljust(w + GAP) for h, w in zip(HEADERS, widths)) + HEADERS[3]
    text.append(header.rstrip() + "\n", style="bold")
    for entry, (name, kind, status, splits) in zip(entries, rows):
        names = fold_path(name, widths[0]).split("\n")
        split_lines = _wrap_sizes(splits, splits_width)
        for i in range(max(len(names), len(split_lines))):
            cells = [names[i] if i < len(names) else "", kind if i == 0 else "", status if i == 0 else ""]
            for j, (cell, cell_width) in enumerate(zip(cells, widths)):
                text.append(cell, style=STATUS_STYLE.get(cell, "") if j == 2 else "")
                text.append(" " * (cell_width - len(cell) + GAP))
            text.append((split_lines[i] if i < len(split_lines) else "").rstrip())
            text.rstrip()
            text.append("\n")
        for line in fold_path(short_path(entry.location), width - INDENT).split("\n"):
            text.append(" " * INDENT + line + "\n", style="dim")
    text.rstrip()
    return text
