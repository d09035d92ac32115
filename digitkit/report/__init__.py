"""Reports of one or several runs: self-contained HTML and/or Markdown with PNG images.

``build_report`` reuses what ``fit`` and ``evaluate`` saved in each run and never trains;
a run without a saved evaluation is evaluated first (and the evaluation saved). See
docs/report.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Sequence

from digitkit import home
from digitkit._internal import atomic
from digitkit.errors import UsageError

__all__ = ["build_report", "ReportResult", "FORMATS"]

FORMATS = ("html", "md", "both")


@dataclass
class ReportResult:
    """What ``build_report`` wrote.

    Attributes:
        paths: the report files (``.html`` and/or ``.md``).
        images: PNG files written beside a Markdown report.
        runs: ids of the runs in the report, in the order given.
        evaluated: ids of runs that had no saved evaluation and were evaluated now.
        leaderboard: one dict per run, best accuracy first.
        notes: things the reader of the terminal should know (fallbacks, missing parts).
        seconds: time taken.
    """

    paths: list[Path]
    images: list[Path] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)
    leaderboard: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _targets(fmt: str, out: str | Path | None, default: Path) -> dict[str, Path]:
    """Report paths per format: ``out`` may be a folder, or a file name with or without suffix."""
    if out is None:
        stem = default
    else:
        out = Path(out).expanduser()
        stem = out / "report" if out.is_dir() or str(out).endswith(("/", "\\")) else out
        if stem.suffix.lower() in (".html", ".htm", ".md", ".markdown"):
            stem = stem.with_suffix("")  # each format gets its own suffix below
    kinds = ("html", "md") if fmt == "both" else (fmt,)
    return {kind: stem.with_name(f"{stem.name}.{kind}") for kind in kinds}


def build_report(refs: str | Sequence[str], fmt: str = "html", out: str | Path | None = None) -> ReportResult:
    """Write a report of one or more runs.

    Args:
        refs: run ids, run folders or model names (latest completed run of each).
        fmt: ``"html"`` (one self-contained file), ``"md"`` (Markdown plus an image folder)
            or ``"both"``.
        out: a file path (its suffix is replaced per format) or an existing folder. Default:
            ``report.html`` inside the run for one run, ``<home>/reports/`` for several.

    Raises:
        UsageError: no runs, an unknown format, or a reference that is not a run.
    """
    started = time.perf_counter()
    if fmt not in FORMATS:
        raise UsageError(f"expected format in {FORMATS}. Received: fmt={fmt!r}")
    refs = [refs] if isinstance(refs, str) else list(refs)
    if not refs:
        raise UsageError("expected at least one run. Received: refs=[]", hint="see `digitkit runs`")
    from digitkit.report.collect import gather, resolve_run
    from digitkit.report.document import build_document, leaderboard_rows
    from digitkit.report.html import render_html
    from digitkit.report.markdown import write_markdown

    unique, seen = [], set()
    for ref in refs:
        run = resolve_run(ref)
        if run.path not in seen:
            seen.add(run.path)
            unique.append(str(run.path))
    runs_data = [gather(ref) for ref in unique]
    stamp = datetime.now().astimezone()  # local time, with its zone
    if len(runs_data) == 1:
        default = runs_data[0].run.path / "report"
    else:
        default = home.home_dir() / "reports" / f"report-{stamp:%Y%m%d-%H%M%S}"
    targets = _targets(fmt, out, default)
    document = build_document(runs_data, stamp.isoformat(timespec="seconds"))
    result = ReportResult(paths=[], runs=[d.run.id for d in runs_data],
                          evaluated=[d.run.id for d in runs_data if d.evaluated_now],
                          leaderboard=leaderboard_rows(runs_data),
                          notes=[f"{d.run.id}: {n}" if len(runs_data) > 1 else n for d in runs_data for n in d.notes])
    if "md" in targets:
        result.images = write_markdown(document, targets["md"])
        result.paths.append(targets["md"])
    if "html" in targets:
        atomic.write_text(targets["html"], render_html(document))
        result.paths.insert(0, targets["html"])
    if len(runs_data) == 1:  # a run fit logged to MLflow gets its report there too
        from digitkit.training.mlflow_log import log_report

        try:
            logged = log_report(runs_data[0].run, [*result.paths, *{p.parent for p in result.images}])
        except Exception as exc:  # the report is written; MLflow being away must not fail it
            result.notes.append(f"report not added to MLflow: {type(exc).__name__}: {str(exc)[:160]}")
        else:
            if logged:
                result.notes.append(f"report added to MLflow run {logged}")
    result.seconds = time.perf_counter() - started
    return result
