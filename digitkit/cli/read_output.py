"""What `digitkit read` prints: the number and its picture, streamed CSV / JSON Lines, or JSON.

Nothing here imports Typer or TensorFlow (the LiteRT path never needs it).
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

CSV_HEADER = ["input", "text", "confidence", "count", "digits", "confidences", "boxes", "status", "statuses"]


def run(paths: Sequence[str], *, model: str = "cnn-best", top_k: int = 3, digits: int | None = None,
        keep_marks: bool = False, json_output: bool = False, jsonl_output: bool = False,
        csv_output: bool = False, backend: str = "auto", strict: bool = False, reader: str = "auto") -> None:
    """Read ``paths`` and print the numbers (the body of `digitkit read`).

    Args:
        strict: exit with :class:`~digitkit.errors.NotSure` (8) when a number is not ``ok``
            (some digit ``unsure`` or ``not-a-digit``), as ``predict --strict``.

    Raises:
        DigitkitError: for the CLI edge to print (NothingRead, PartialFailure, NotSure...).
    """
    from digitkit.errors import UsageError
    from digitkit.reading import stream
    from digitkit.reading.results import NothingRead, ReadFailure, ReadResult, check_failures

    if sum((json_output, jsonl_output, csv_output)) > 1:
        raise UsageError("--json, --jsonl and --csv cannot be used together")
    plain = not (json_output or jsonl_output or csv_output)
    answers = stream(paths, model=model, top_k=top_k, digits=digits, keep_marks=keep_marks, backend=backend,
                     keep_pictures=plain, reader=reader)
    _print_notes(answers.predictor.notes)
    engine = answers.predictor
    emit = _streaming_writer(engine, csv_output) if (csv_output or jsonl_output) else None
    kept: list[Any] = []
    failures: list[Any] = []
    statuses: list[str] = []
    for item in answers:
        if not isinstance(item, ReadFailure):
            statuses.append(item.status)
        if isinstance(item, ReadFailure):
            failures.append(item)
            sys.stdout.flush()
            _print_failure(item)
        elif emit is not None:
            emit(item)
        elif plain:
            _print_reading(item)
            item.picture = None  # printed: a folder of pictures must not pile up in memory
        else:
            kept.append(item)
        if emit is not None and answers.chunk_done:
            sys.stdout.flush()
    if not answers.read:
        raise NothingRead(failures or [ReadFailure("input", "nothing to read")])
    if json_output:
        from digitkit.render.console import print_json

        result = ReadResult(kept, failures, engine.name, engine.path, engine.run_id, engine.backend)
        print_json(result.to_dict())
    check_failures(answers.read, answers.failed)
    if strict:
        from digitkit.inference.batch import check_statuses

        check_statuses(statuses)


def _streaming_writer(engine: Any, csv_output: bool):
    """One reading as a CSV row or a JSON line (flushed by the caller a chunk at a time)."""
    if csv_output:
        import csv

        from digitkit.errors import printable

        writer = csv.writer(sys.stdout, lineterminator="\n")
        started = []

        def emit(r) -> None:
            if not started:
                writer.writerow(CSV_HEADER)
                started.append(True)
            writer.writerow([printable(r.input), r.text, f"{r.confidence:.6f}", len(r.digits),
                             " ".join(str(d.digit) for d in r.digits),
                             " ".join(f"{d.confidence:.6f}" for d in r.digits),
                             ";".join(" ".join(map(str, d.box)) for d in r.digits), r.status,
                             " ".join(d.status for d in r.digits)])
        return emit
    import json

    model = {"name": engine.name, "run": engine.run_id, "backend": engine.backend}

    def emit_json(r) -> None:
        sys.stdout.write(json.dumps({**r.to_dict(), "model": model}) + "\n")
    return emit_json


def _print_reading(reading: Any) -> None:
    from digitkit.render.console import out
    from digitkit.render.digits import has_colour
    from digitkit.render.numbers import reading_view

    console = out()
    width = min(console.width, 80)
    console.print(reading_view(reading, width, colour=has_colour(console)), width=width)
    console.print()


def _print_notes(notes) -> None:
    if notes:
        from digitkit.render.console import err, escape

        for note in notes:
            err().print(f"[dim]note:[/] {escape(note)}", soft_wrap=True)


def _print_failure(failure: Any) -> None:
    from digitkit.render.console import err, escape, printable

    err().print(f"[yellow]skipped[/] {escape(printable(failure.input))}: {escape(printable(failure.message))}",
                soft_wrap=True)
