"""`digitkit report`: an HTML or Markdown report of one or more runs."""

from __future__ import annotations

from typing import Annotated, List, Literal, Optional

import typer

from digitkit.cli.options import complete_model_ref


def command(
    runs: Annotated[
        List[str], typer.Argument(help="Run ids, run folders or model names (their latest run).",
                                  autocompletion=complete_model_ref, show_default=False, metavar="MODEL"),
    ],
    fmt: Annotated[Literal["html", "md", "both"], typer.Option(
        "--format", "-f", case_sensitive=False, help="html (one self-contained file), md (Markdown beside a folder of PNG figures), or both.")] = "html",
    out: Annotated[
        Optional[str], typer.Option("--out", "-o", metavar="PATH", help="Report file or folder (default: report.html in the run, "
                                                  "or <home>/reports/ for several runs).", show_default=False),
    ] = None,
    open_report: Annotated[bool, typer.Option("--open", help="Open the report in the web browser.")] = False,
) -> None:
    """Write a report of one or more runs: metrics, curves, confusions, mistakes, a leaderboard.

    Reuses what fit and evaluate saved; a run without a saved evaluation is evaluated first.
    """
    from digitkit.render.console import err, escape, out as stdout
    from digitkit.report import build_report

    status = err()
    with status.status("writing the report…"):
        result = build_report(runs, fmt=fmt, out=out)
    for note in result.notes:
        status.print(f"[yellow]note:[/] {escape(note)}")
    for path in result.paths:
        stdout().print(escape(str(path)), soft_wrap=True)
    status.print(f"[dim]{len(result.runs)} run(s) in {result.seconds:.1f} s[/]")
    if open_report and result.paths:
        import webbrowser

        webbrowser.open(result.paths[0].resolve().as_uri())
