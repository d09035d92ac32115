"""Evaluation results in the terminal: summary, per-class table, confusion heatmap, gallery.

Everything here draws numbers computed by :mod:`digitkit.metrics`; nothing is computed
again. Colour only adds emphasis: every cell also shows its number, so the heatmap reads
the same with ``NO_COLOR`` or in a pipe.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from digitkit.render.digits import Mode, digit_grid

# Okabe-Ito blue for correct counts, vermillion for errors: distinct for colour-blind readers.
CORRECT_RGB = (0, 114, 178)
ERROR_RGB = (213, 94, 0)


def summary_table(data: dict[str, Any]) -> Table:
    """Headline numbers of one evaluation."""
    m, ds = data["metrics"], data["dataset"]
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0), title="evaluation", title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("model", data.get("model") or "-"),
        ("run", data.get("run") or "-"),
        ("data", f"{ds['name']} {ds['split']} split, {ds['size']:,} digits ({ds['source']})"),
        ("loss", f"{m['loss']:.4f}"),
        ("accuracy", f"{m['accuracy']:.2%}  ({m['errors']:,} wrong)"),
        (f"top-{data['top_k']} accuracy", f"{m['top_k_accuracy']:.2%}"),
        ("macro F1", f"{m['macro_f1']:.4f}"),
    ]
    for key, value in rows:
        table.add_row(key, escape(str(value)))
    return table


def per_class_table(per_class: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="per class", title_justify="left")
    table.add_column("digit", justify="right", style="bold")
    for name in ("precision", "recall", "F1", "support"):
        table.add_column(name, justify="right")
    for row in per_class:
        table.add_row(str(row["label"]), f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                      f"{row['support']:,}")
    return table


def _shade(rgb: tuple[int, int, int], strength: float) -> str:
    """Blend ``rgb`` into a dark background by ``strength`` in [0, 1]."""
    base = 30
    level = [int(base + (c - base) * strength) for c in rgb]
    return f"rgb({level[0]},{level[1]},{level[2]})"


def confusion_heatmap(confusion: Sequence[Sequence[int]]) -> Table:
    """Rows are true digits, columns predictions; background strength grows with the count."""
    matrix = np.asarray(confusion, dtype=np.int64)
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    diag_max = max(int(np.diag(matrix).max(initial=0)), 1)
    off_max = max(int(off.max(initial=0)), 1)
    table = Table(title="confusion matrix (rows: true digit, columns: predicted)", title_justify="left",
                  padding=(0, 1))
    table.add_column("true", justify="right", style="bold")
    for c in range(matrix.shape[1]):
        table.add_column(str(c), justify="right")
    for t in range(matrix.shape[0]):
        cells = []
        for p in range(matrix.shape[1]):
            count = int(matrix[t, p])
            if t == p:
                style = f"bold white on {_shade(CORRECT_RGB, 0.35 + 0.65 * count / diag_max)}"
                cells.append(Text(f"{count}", style=style))
            elif count:
                style = f"white on {_shade(ERROR_RGB, 0.3 + 0.7 * count / off_max)}"
                cells.append(Text(f"{count}", style=style))
            else:
                cells.append(Text("·", style="dim"))
        table.add_row(str(t), *cells)
    return table


def most_confused_text(pairs: Sequence[dict[str, Any]]) -> Text:
    """'4 → 9   12 times (1.2% of the 4s)' lines."""
    if not pairs:
        return Text("no confusions: every digit was classified correctly")
    lines = Text("most confused pairs (true → predicted)\n", style="bold")
    for pair in pairs:
        lines.append(f"  {pair['true']} → {pair['predicted']}  {pair['count']:>4} times"
                     f"  ({pair['share']:.1%} of the {pair['true']}s)\n")
    lines.rstrip()
    return lines


def gallery(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, indices: Sequence[int], width: int,
            mode: Mode) -> RenderableType:
    """Misclassified digits captioned 'true 4 → 9 87%'."""
    if not len(indices):
        return Text("")
    predicted = probabilities.argmax(axis=1)
    captions = [f"{labels[i]}→{predicted[i]} {probabilities[i, predicted[i]]:.0%}" for i in indices]
    heading = Text("misclassified digits (true→predicted confidence), most confident mistakes first", style="bold")
    return Group(heading, digit_grid([images[i] for i in indices], captions, width, mode))


def evaluation_view(evaluation: Any, *, width: int, mode: Mode, gallery_size: int) -> RenderableType:
    """Everything ``digitkit evaluate`` shows, top to bottom."""
    data = evaluation.data
    parts: list[RenderableType] = [
        summary_table(data), Text(""), per_class_table(data["per_class"]), Text(""),
        confusion_heatmap(data["confusion"]), Text(""), most_confused_text(data["most_confused"]),
    ]
    if gallery_size > 0 and evaluation.images is not None:
        indices = evaluation.misclassified(gallery_size)
        if len(indices):
            parts += [Text(""), gallery(evaluation.images, evaluation.labels, evaluation.probabilities, indices,
                                        width, mode)]
    return Group(*parts)


def bench_table(entries: Sequence[Any]) -> Table:
    """The bench leaderboard: best accuracy first, failed models last with their error."""
    table = Table(title="leaderboard (same test split, best accuracy first)", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("model", style="bold cyan", no_wrap=True)
    table.add_column("accuracy", justify="right")
    table.add_column("loss", justify="right")
    table.add_column("params", justify="right")
    table.add_column("training", justify="right")
    table.add_column("ms/digit", justify="right")
    table.add_column("run", style="dim")
    for i, e in enumerate(entries, 1):
        if e.error:
            table.add_row(str(i), escape(e.model), Text("failed", style="red"), "", "", "", "",
                          escape(e.error))
            continue
        table.add_row(str(i), escape(e.model), f"{e.accuracy:.2%}", f"{e.loss:.4f}",
                      f"{e.params:,}" if isinstance(e.params, int) else "-",
                      f"{e.train_seconds:.1f} s" if isinstance(e.train_seconds, (int, float)) else "-",
                      f"{e.latency_ms:.2f}", escape(e.run or "-"))
    return table
