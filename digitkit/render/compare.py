"""`digitkit runs compare`: runs as columns, one screen at 80 columns (no TensorFlow).

Rows are what a reader compares: model, data, epochs, time, parameters, test accuracy,
calibration error, then F1 per digit. The best accuracy and calibration are bold; every F1
after the first run's carries its difference to the first run, green when better, red when
worse (at least half a point of F1), so where two models differ is what stands out.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from digitkit.render.runs import _duration, short_ids

SIGNIFICANT = 0.005  # smaller F1 differences are noise on a 10,000-digit test split


def _best(values: list[float | None], lowest: bool = False) -> float | None:
    known = [v for v in values if v is not None]
    if len(known) < 2 or len(set(known)) == 1:
        return None
    return min(known) if lowest else max(known)


def _diff(value: float | None) -> str:
    if value is None:
        return ""
    if value >= SIGNIFICANT:
        return f" [green]+{value:.3f}[/]"
    if value <= -SIGNIFICANT:
        return f" [red]{value:.3f}[/]"
    return " [dim]  same[/]"


def compare_table(comparison: Any) -> Table:
    runs = comparison.runs
    short = short_ids([r.id for r in runs])
    table = Table(title="runs side by side (F1: ± the first run)", title_justify="left", box=None,
                  pad_edge=False, padding=(0, 1), header_style="bold underline")
    table.add_column("", style="bold", no_wrap=True)
    for run in runs:
        table.add_column(escape(short[run.id]), style=None, overflow="fold", justify="right")

    def row(label: str, cells: list[str]) -> None:
        table.add_row(label, *cells)

    row("model", [escape(r.model + (f" ({r.name})" if r.name else "")) for r in runs])
    row("data", [escape(f"{r.dataset or 'mnist'}" + (f" {r.train_size:,}" if isinstance(r.train_size, int) else ""))
                 for r in runs])
    row("epochs", [f"{r.epochs}/{r.epochs_planned or '?'}" for r in runs])
    row("time", [_duration(r.duration_s) for r in runs])
    row("parameters", [f"{r.params:,}" if isinstance(r.params, int) else "-" for r in runs])
    accuracy = [r.test_accuracy for r in runs]
    best = _best(accuracy)
    row("test acc", [("-" if v is None else f"[bold green]{v:.4f}[/]" if v == best else f"{v:.4f}")
                     for v in accuracy])
    ece = [r.ece for r in runs]
    best = _best(ece, lowest=True)
    row("calib. err", [("-" if v is None else f"[bold green]{v:.2%}[/]" if v == best else f"{v:.2%}") for v in ece])
    differences = comparison.f1_differences()
    for digit in range(max((len(r.per_class_f1 or []) for r in runs), default=0)):
        cells = []
        for i, run in enumerate(runs):
            f1 = run.per_class_f1
            if f1 is None or digit >= len(f1):
                cells.append("-")
                continue
            diff = differences[i][digit] if i and digit < len(differences[i]) else None
            cells.append(f"{f1[digit]:.3f}{_diff(diff)}")
        row(f"F1 digit {digit}", cells)
    return table
