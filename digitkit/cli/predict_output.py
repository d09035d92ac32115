"""What `digitkit predict` prints: streamed CSV / JSON Lines, a table, or one JSON document.

CSV and JSON Lines print each row as soon as its image is done; the table and ``--json``
print once at the end. A progress bar appears on stderr for large batches on a terminal.
Nothing here imports Typer, and rich only when something is drawn with it.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

BAR_WIDTH = 20
EIGHTHS = " ▏▎▍▌▋▊▉"
PROGRESS_MIN_INPUTS = 200
STATUS_STYLES = {"ok": "green", "unsure": "yellow", "not-a-digit": "red"}
CSV_HEADER = ["input", "digit", "best", "confidence", "status", *[f"p{d}" for d in range(10)]]


def run(paths: Sequence[str], *, model: str = "cnn", top_k: int = 3, json_output: bool = False,
        jsonl_output: bool = False, csv_output: bool = False, show: bool = False,
        min_confidence: float | None = None, no_preprocess: bool = False, backend: str = "auto",
        strict: bool = False, tta: bool = False) -> None:
    """Predict ``paths`` and print the answers (the body of `digitkit predict`).

    Args:
        strict: exit with :class:`~digitkit.errors.NotSure` (8) when an answer is not ``ok``.

    Raises:
        DigitkitError: for the CLI edge to print (NothingPredicted, PartialFailure, NotSure...).
    """
    from digitkit.errors import UsageError
    from digitkit.inference.batch import Failure, NothingPredicted, check_failures, check_statuses, stream

    if sum((json_output, jsonl_output, csv_output)) > 1:
        raise UsageError("--json, --jsonl and --csv cannot be used together")
    answers = stream(paths, model=model, top_k=top_k, min_confidence=min_confidence,
                     preprocess=not no_preprocess, backend=backend, keep_images=show,
                     panels=_panel_side() if show else 0, tta=tta)
    _print_notes(answers.predictor.notes)
    emit = _streaming_writer(answers, csv_output) if (csv_output or jsonl_output) else None
    kept: list[Any] = []
    failures: list[Any] = []
    statuses: list[str] = []
    held: list[Any] = []  # skips before the first answer: a lone failure is said once, as the error
    with _progress(answers.total) as advance:
        for item in answers:
            advance()
            if isinstance(item, Failure):
                failures.append(item)
                if emit is not None:
                    sys.stdout.flush()  # the rows before it first, in a shared terminal
                if answers.predicted:
                    _print_failures([item])
                else:
                    held.append(item)
                continue
            if held:
                _print_failures(held)
                held.clear()
            statuses.append(item.status)
            if emit is not None:
                emit(item)
            else:
                kept.append(item)
            if emit is not None and answers.chunk_done:
                sys.stdout.flush()
    if not answers.predicted:
        if len(held) > 1:
            _print_failures(held)
        raise NothingPredicted(failures or [Failure("input", "nothing to predict")])
    if emit is None:
        from digitkit.inference.batch import PredictResult

        from digitkit.inference.status import DEFAULT_MIN_CONFIDENCE

        engine = answers.predictor
        result = PredictResult(kept, failures, engine.name, engine.path, engine.run_id, engine.backend,
                               min_confidence, 0.0, threshold=DEFAULT_MIN_CONFIDENCE if min_confidence is None
                               else min_confidence, answered_by=engine.answered_by())
        if json_output:
            from digitkit.render.console import print_json

            print_json(result.to_dict())
        else:
            _print_table(result, show)
    from digitkit.inference.status import summary_note

    note = summary_note(statuses)
    if note and len(statuses) > 1:  # one answer shows its status in full already
        sys.stdout.flush()
        # Plain text (our own words, no user text): importing rich for it cost a CSV run ~0.1 s.
        sys.stderr.write(f"note: {note}\n")
    check_failures(answers.predicted, answers.failed)
    if strict:
        check_statuses(statuses)


def _streaming_writer(answers, csv_output: bool):
    """A function printing one prediction as a CSV row or a JSON line (not flushed: the
    caller flushes what is ready together, as a flush per row cost more than the row)."""
    if csv_output:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        started = []

        from digitkit.errors import printable

        def emit(p) -> None:  # names escaped like everywhere on a terminal; --json/--jsonl keep them exact
            if not started:  # the header comes with the first row: nothing at all when every input fails
                writer.writerow(CSV_HEADER)
                started.append(True)
            writer.writerow([printable(p.input), "?" if p.digit is None else p.digit, p.best, f"{p.confidence:.6f}",
                             p.status, *[f"{v:.6f}" for v in p.probabilities.tolist()]])
        return emit
    import json

    engine = answers.predictor
    model = {"name": engine.name, "run": engine.run_id, "backend": engine.backend, **engine.answered_by()}

    def emit_json(p) -> None:
        sys.stdout.write(json.dumps({**p.to_dict(), "model": model}) + "\n")
    return emit_json


class _progress:
    """A rich progress bar on stderr for large batches on a terminal; a no-op elsewhere."""

    def __init__(self, total: int) -> None:
        self.total, self._bar = total, None

    def __enter__(self):
        if self.total <= PROGRESS_MIN_INPUTS or not sys.stderr.isatty():
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from digitkit.render.console import err

        self._bar = Progress(TextColumn("predicting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                             console=err(), transient=True,
                             redirect_stdout=False)  # rich would send --jsonl/--csv rows to the terminal, not stdout
        self._bar.start()
        task = self._bar.add_task("predict", total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.stop()


def _print_notes(notes) -> None:
    if notes:
        from digitkit.render.console import err, escape

        for note in notes:
            err().print(f"[dim]note:[/] {escape(note)}", soft_wrap=True)


def _print_failures(failures) -> None:
    from digitkit.render.console import err, escape, printable

    console = err()
    for failure in failures:
        console.print(f"[yellow]skipped[/] {escape(printable(failure.input))}: {escape(printable(failure.message))}",
                      soft_wrap=True)


def _bar(probability: float) -> str:
    eighths = int(round(probability * BAR_WIDTH * 8))
    full, part = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(BAR_WIDTH)


def _top_k_text(prediction):
    from rich.text import Text

    lines = Text()
    for rank, (digit, probability) in enumerate(prediction.top_k):
        style = "green" if rank == 0 and prediction.digit is not None else "dim"
        lines.append(f"{digit} ", style="bold" if rank == 0 else "")
        lines.append(_bar(probability), style=style)
        lines.append(f" {probability * 100:5.1f}%" + ("\n" if rank < len(prediction.top_k) - 1 else ""))
    return lines


def _top_k_lines(prediction) -> list[str]:
    """:func:`_top_k_text` without its styles."""
    return [f"{digit} {_bar(probability)} {probability * 100:5.1f}%" for digit, probability in prediction.top_k]


def _cells(result, width: int):
    """(input lines, digit, status, top-k lines) per prediction, the input folded at ``/`` to fit."""
    from digitkit.cli.predict_plain import fold_inputs
    from digitkit.errors import printable

    names = [printable(p.input) for p in result.predictions]
    digits = ["?" if p.digit is None else str(p.digit) for p in result.predictions]
    statuses = [p.status for p in result.predictions]
    top_k = [_top_k_lines(p) for p in result.predictions]
    return list(zip(fold_inputs(names, digits, statuses, top_k, width), digits, statuses, top_k))


def _plain_table(result) -> str | None:
    """The table as plain text when rich would draw no styles (see :mod:`predict_plain`)."""
    from digitkit.cli.predict_plain import plain_table, rich_width

    return plain_table(_plain_title(result), _cells(result, rich_width()))


def _plain_title(result) -> str:
    """Which run or shipped weights answered, and how good they are on their test set."""
    from digitkit.errors import printable

    who = result.answered_by.get("answered_by") or result.run_id or result.model_name
    accuracy = result.answered_by.get("test_accuracy")
    scored = f", test accuracy {accuracy * 100:.2f}%" if isinstance(accuracy, (int, float)) else ""
    return f"{printable(who)} ({result.backend}{scored})"


def _title(result) -> str:
    from digitkit.render.console import escape

    return escape(_plain_title(result))


def _print_table(result, show: bool) -> None:
    text = None if show else _plain_table(result)
    if text is not None:  # ~50 ms less than importing rich's table, for the same characters
        sys.stdout.write(text)
        return
    from rich.table import Table
    from rich.text import Text

    from digitkit.render.console import out

    console = out()
    if show:
        return _print_shown(result, console)
    table = Table(title=_title(result), title_justify="left")
    table.add_column("input", overflow="fold")
    table.add_column("digit", justify="center", style="bold")
    table.add_column("status", justify="center")
    table.add_column("top-k", no_wrap=True)
    for prediction, (folded, answer, status, _) in zip(result.predictions, _cells(result, console.width)):
        table.add_row(Text("\n".join(folded)), answer, Text(status, style=STATUS_STYLES.get(status, "")),
                      _top_k_text(prediction))
    console.print(table)


def _print_shown(result, console) -> None:
    """Each digit as the model received it, under its name and above its answer, beside the
    picture as preprocessing found it (paper, ink, crop: see
    :func:`digitkit.intake.explain.panels`, made in the same pass as the digit, so stdin is
    shown as files are), so a miss can be seen."""
    from rich.text import Text

    from digitkit.render.console import printable
    from digitkit.render.digits import choose_mode

    mode = choose_mode(console)
    console.print(_title(result))
    for prediction in result.predictions:
        answer = "?" if prediction.digit is None else str(prediction.digit)
        header = Text(printable(prediction.input))
        header.append(f"  → {answer}", style="bold")
        header.append(f"  {prediction.status}", style=STATUS_STYLES.get(prediction.status, ""))
        console.print(header)
        panels = [*(prediction.panels or []), ("digit", prediction.image)]
        console.print(_panel_rows(panels, console.width, mode))
        console.print(_top_k_text(prediction))
        console.print()


def _panel_side() -> int:
    """The panels' side for the terminal: three panels and their gaps in a row."""
    from digitkit.render.console import out

    return max(8, min(40, (out().width - 3) // 3))


def _panel_rows(panels: list, width: int, mode: str):
    """Captioned panels, as many per row as fit in ``width`` columns."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from digitkit.render.digits import render_digit

    rows, row, used = [], [], 0
    for caption, image in panels:
        cols = max(len(caption), image.shape[1])
        if row and used + cols + 1 > width:
            rows.append(row)
            row, used = [], 0
        row.append((caption, image, cols))
        used += cols + 1
    rows.append(row)
    tables = []
    for row in rows:
        table = Table.grid(padding=(0, 1))
        for _, _, cols in row:
            table.add_column(width=cols, no_wrap=True, overflow="crop")
        table.add_row(*[render_digit(image, mode, width=cols) for _, image, cols in row])
        table.add_row(*[Text(caption, style="dim") for caption, _, _ in row])
        tables.append(table)
    return Group(*tables)