"""Evaluation results in the terminal: summary, per-class table, confusion heatmap, gallery.

Everything here draws numbers computed by :mod:`digitkit.evaluation.metrics`; nothing is computed
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
    if not data.get("run") and data.get("answered_by"):  # shipped weights or a loose file: say which
        rows[1] = ("answered by", data["answered_by"])
    if isinstance(data.get("ece"), dict) and isinstance(data.get("nll"), dict):
        ece, nll = data["ece"], data["nll"]
        temperature = (data.get("calibration") or {}).get("temperature", 1.0)
        rows.append(("calibration", f"ECE {ece['before']:.2%} → {ece['after']:.2%}, NLL {nll['before']:.4f} → "
                                    f"{nll['after']:.4f} (T {temperature:.2f})"))
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


def confusion_heatmap(confusion: Sequence[Sequence[int]],
                      per_class: Sequence[dict[str, Any]] | None = None) -> RenderableType:
    """Rows are true digits, columns predictions; background strength grows with the count.

    Correct counts (the diagonal) and errors have separate colour scales, so a handful of
    errors stands out beside thousands of correct digits; zeros are a dim dot. With
    ``per_class``, each row ends with the digit's recall, precision and F1: one compact
    table instead of two.
    """
    matrix = np.asarray(confusion, dtype=np.int64)
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    diag_max = max(int(np.diag(matrix).max(initial=0)), 1)
    off_max = max(int(off.max(initial=0)), 1)
    table = Table(box=None, pad_edge=False, padding=(0, 0, 0, 1), header_style="bold")
    table.add_column("true", justify="right", style="bold", no_wrap=True)
    cell = len(str(int(matrix.max(initial=0))))  # every count column as wide as the widest count
    for c in range(matrix.shape[1]):
        table.add_column(str(c), justify="right", no_wrap=True, min_width=cell)
    if per_class:
        for name in ("recall", "prec.", "F1"):
            table.add_column(name, justify="right", no_wrap=True)
    scores = {row["label"]: row for row in per_class or []}
    for t in range(matrix.shape[0]):
        cells = []
        for p in range(matrix.shape[1]):
            count = int(matrix[t, p])
            if t == p:
                style = f"bold white on {_shade(CORRECT_RGB, 0.35 + 0.65 * count / diag_max)}"
                cells.append(Text(f"{count}", style=style))
            elif count:
                style = f"bold white on {_shade(ERROR_RGB, 0.45 + 0.55 * count / off_max)}"
                cells.append(Text(f"{count}", style=style))
            else:
                cells.append(Text("·", style="dim"))
        row = scores.get(t)
        if per_class:
            cells += [f" {row['recall']:.3f}", f"{row['precision']:.3f}", f"{row['f1']:.3f}"] if row else ["", "", ""]
        table.add_row(str(t), *cells)
    # The title above the table, not as its caption: a caption would wrap to the table's width.
    return Group(Text("confusion matrix (rows: true digit, columns: predicted)", style="bold"), table)


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


GALLERY_ROW_LINES = 15  # a 28-pixel digit is 14 lines of half blocks, plus its caption
RESERVED_LINES = 3  # the "saved ..." line after the view, and the shell prompt


def evaluation_view(evaluation: Any, *, width: int, mode: Mode, gallery_size: int | None = None,
                    height: int | None = None, console: Any = None) -> RenderableType:
    """Everything ``digitkit evaluate`` shows, summary first.

    Args:
        evaluation: the :class:`digitkit.evaluate.Evaluation` to draw.
        width: columns available.
        mode: how digits are drawn.
        gallery_size: misclassified digits to draw; ``None`` draws as many as fit in
            ``height`` lines below the metrics (possibly none), so the summary stays on screen.
        height: terminal lines, used when ``gallery_size`` is ``None``.
        console: the console that will print the view, to measure the metrics' height.
    """
    data = evaluation.data
    parts: list[RenderableType] = [
        summary_table(data), Text(""), confusion_heatmap(data["confusion"], data["per_class"]), Text(""),
        most_confused_text(data["most_confused"][:3] if gallery_size is None else data["most_confused"]),
    ]
    if evaluation.images is None or gallery_size == 0:
        return Group(*parts)
    wrong = len(evaluation.misclassified())
    if gallery_size is None:
        per_row = max(1, (width + 1) // (28 + 1))
        used = len(console.render_lines(Group(*parts), console.options.update(width=width), pad=False)) \
            if console is not None else 40
        rows = max(0, ((height or 25) - used - RESERVED_LINES - 2) // GALLERY_ROW_LINES)
        gallery_size = rows * per_row
        if gallery_size < wrong:
            parts += [Text(f"{wrong:,} misclassified digits; `--gallery N` draws the N most confident "
                                     "mistakes" + (f" (here: {gallery_size})" if gallery_size else ""), style="dim")]
    indices = evaluation.misclassified(gallery_size)
    if len(indices):
        parts += [Text(""), gallery(evaluation.images, evaluation.labels, evaluation.probabilities, indices,
                                    width, mode)]
    return Group(*parts)


def bench_table(entries: Sequence[Any], quick: str | None = None) -> RenderableType:
    """The bench leaderboard, best accuracy first, then each run's full id on its own line.

    ``quick``: the line saying what a ``--quick`` bench trained, shown under the table.

    Ids are what users copy into evaluate, report and runs show, so they are never cut; a
    table column wide enough for them would not fit 80 columns, hence the list below it.
    """
    table = Table(title="leaderboard (same test split, best accuracy first)", title_justify="left", box=None,
                  pad_edge=False, padding=(0, 2, 0, 0), header_style="bold underline")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("model", style="bold cyan", overflow="fold")
    for name in ("accuracy", "loss", "params", "training", "ms/digit"):
        table.add_column(name, justify="right", no_wrap=True)
    below = Text()
    for i, e in enumerate(entries, 1):
        if e.error:
            table.add_row(str(i), escape(e.model), Text("failed", style="red"), "", "", "", "")
            below.append(f"{i:>2}  ").append(f"{e.model} failed: {e.error}\n", style="red")
            continue
        table.add_row(str(i), escape(e.model), f"{e.accuracy:.2%}", f"{e.loss:.4f}",
                      f"{e.params:,}" if isinstance(e.params, int) else "-",
                      f"{e.train_seconds:.1f} s" if isinstance(e.train_seconds, (int, float)) else "-",
                      f"{e.latency_ms:.2f}")
        below.append(f"{i:>2}  ").append(f"{e.run or '-'}\n", style="cyan")
    below.rstrip()
    if quick:  # what the figures mean: a quick bench's accuracies are not the recipes'
        return Group(table, Text(quick, style="yellow"), Text(""), Text("runs", style="bold underline"), below)
    return Group(table, Text(""), Text("runs", style="bold underline"), below)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def numbers_summary(data: dict[str, Any]) -> Table:
    """Headline numbers of a reader scored on a set of numbers (``evaluate --numbers``)."""
    m, numbers = data["metrics"], data["numbers"]
    status = m["status"]
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0), title="reading numbers", title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    rows = [
        ("model", data.get("model") or "-"),
        ("run", data.get("run") or "-") if data.get("run") else ("answered by", data.get("answered_by") or "-"),
        ("numbers", f"{numbers['size']:,} pictures in {numbers['folder']} ({numbers['labels']})"),
        ("whole numbers", f"{_share(m['accuracy'])}  ({m['errors']:,} wrong)"),
        ("digits", f"{_share(m['digit_accuracy'])}  ({m['digits_compared']:,} digits of numbers read with the "
                   "right count)"),
        ("count wrong", f"{m['count_errors']:,}  ({m['missing']:,} with digits missing, {m['extra']:,} with extra)"),
        ("not ok", f"{m['not_ok']:,}  (unsure {status.get('unsure', 0):,}, not-a-digit "
                   f"{status.get('not-a-digit', 0):,}, unreadable {status.get('failed', 0):,})"),
        ("among ok", f"{_share(m['ok_accuracy'])} right  ({status.get('ok', 0):,} answers ok)"),
    ]
    for key, value in rows:
        table.add_row(key, escape(str(value)))
    return table


def numbers_groups(groups: Sequence[dict[str, Any]]) -> Table:
    """Scores per group of the set (make_numbers' conditions, or sub-folders)."""
    table = Table(title="per group", title_justify="left", box=None, pad_edge=False, padding=(0, 2, 0, 0),
                  header_style="bold")
    table.add_column("group", overflow="fold")
    for name in ("numbers", "whole", "digits", "count wrong", "not ok"):
        table.add_column(name, justify="right", no_wrap=True)
    for g in groups:
        table.add_row(escape(g["group"]), f"{g['numbers']:,}", _share(g["accuracy"]), _share(g["digit_accuracy"]),
                      f"{g['count_errors']:,}", f"{g['not_ok']:,}")
    return table


def numbers_mistakes(mistakes: Sequence[dict[str, Any]], total: int, width: int) -> Text:
    """'4071 → 4011  unsure 62%  touching/00012_4071.png' lines, most confident first."""
    if not total:
        return Text("no mistakes: every number was read right")
    lines = Text("misread numbers (true → read), most confident first\n", style="bold")
    for m in mistakes:
        read = (m["read"] or "").replace("\n", "/") if m["read"] is not None else "(unreadable)"
        how = f"{m['status']} {m['confidence']:.0%}" if m["confidence"] is not None else m.get("message", "")
        line = Text(f"  {m['true']} → {read}  {how}  {m['input']}", overflow="ellipsis", no_wrap=True)
        line.truncate(width, overflow="ellipsis")
        lines.append_text(line)
        lines.append("\n")
    if total > len(mistakes):
        lines.append(f"  … {total - len(mistakes):,} more; `--gallery N` lists N, `--json` all that were kept",
                     style="dim")
    lines.rstrip()
    return lines


def numbers_view(evaluation: Any, *, width: int, listed: int | None = None) -> RenderableType:
    """Everything ``digitkit evaluate --numbers`` shows: the scores, per group, the misread numbers.

    Args:
        evaluation: the :class:`digitkit.evaluation.NumbersEvaluation` to draw.
        width: columns available.
        listed: misread numbers to list (default 10; 0: none).
    """
    data = evaluation.data
    parts: list[RenderableType] = [numbers_summary(data)]
    if data.get("groups"):
        parts += [Text(""), numbers_groups(data["groups"])]
    listed = 10 if listed is None else listed
    if listed:
        parts += [Text(""), numbers_mistakes(data["mistakes"][:listed], data["metrics"]["errors"], width)]
    return Group(*parts)
