"""The `digitkit datasets` table, laid out for 80 columns."""

from __future__ import annotations

from typing import Any, Sequence

from rich.table import Table
from rich.text import Text

from digitkit.render.paths import fold_path, short_path

STATUS_STYLE = {"ready": "green", "not prepared": "yellow", "damaged": "red"}
# Short names keep the table one screen wide; `--json` keeps the full kind.
KIND_SHORT = {"tensorflow-datasets": "tfds"}
GAP = 2


def sizes(splits: dict[str, int]) -> str:
    """'train 60,000, test 10,000' (spaces only between entries, so a number never splits)."""
    return ", ".join(f"{name}\u00a0{count:,}" for name, count in splits.items()) or "-"


def datasets_table(entries: Sequence[Any], width: int) -> Table:
    """dataset, kind, status, splits, location; the location folds at path separators."""
    rows = []
    for entry in entries:
        rows.append([entry.name + (" (default)" if entry.default else ""), KIND_SHORT.get(entry.kind, entry.kind),
                     entry.status, sizes(entry.splits), short_path(entry.location)])
    # Every column but the location keeps its natural width (names fold at "/" if they must).
    natural = [max([len("dataset")] + [min(len(r[0]), 18) for r in rows]),
               max([len("kind")] + [len(r[1]) for r in rows]),
               max([len("status")] + [len(r[2]) for r in rows]),
               max([len("splits")] + [max(map(len, r[3].split(", "))) + 1 for r in rows])]
    location_width = max(16, width - sum(natural) - GAP * len(natural))
    table = Table(box=None, header_style="bold underline", pad_edge=False, padding=(0, GAP, 0, 0))
    table.add_column("dataset", overflow="fold", max_width=natural[0])
    table.add_column("kind", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("splits", max_width=natural[3])
    table.add_column("location", style="dim", no_wrap=True)
    for name, kind, status, splits, location in rows:
        table.add_row(Text(fold_path(name, natural[0])), kind, Text(status, style=STATUS_STYLE.get(status, "")),
                      splits.replace(", ", ",\n"), fold_path(location, location_width))
    return table
