"""`digitkit serve`: a page to draw or drop digits, a JSON API and the inference protocol."""

from __future__ import annotations

import os
from typing import Annotated, Literal, Optional

import typer

from digitkit.cli.options import complete_model_ref


def default_workers() -> int:
    """One worker per core, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def command(
    model: Annotated[str, typer.Option(
        "--model", "-m", help="Run id, .keras/.tflite path, run folder, or model name (its latest run).",
        autocompletion=complete_model_ref)] = "cnn",
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on; 127.0.0.1 lets only this computer connect, 0.0.0.0 everyone.",
    )] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port; 0 picks a free one.")] = 8000,
    workers: Annotated[Optional[int], typer.Option(
        "--workers", show_default=False,
        help="Processes serving the port, each with the model loaded [default: cores, at most 8].")] = None,
    allow_host: Annotated[Optional[list[str]], typer.Option(
        "--allow-host", metavar="NAME",
        help="Also answer requests for this Host name, e.g. behind a reverse proxy (repeatable).")] = None,
    log_format: Annotated[Literal["text", "json"], typer.Option(
        "--log-format", help="text, or json: one access line per request on stderr.")] = "text",
    collect: Annotated[Optional[str], typer.Option(
        "--collect", metavar="DIR", show_default=False,
        help="Add \"that's wrong, it is: [digit]\" to the page; saves into DIR/<digit>/.")] = None,
) -> None:
    """Serve a page to draw or drop digits and a JSON API for predictions.

    The model loads once per worker at startup. Only requests naming this server's own
    address in their Host header are answered (--allow-host adds names). Ctrl-C or SIGTERM
    stops the server after answering the requests in flight. Needs the optional serve extra;
    the API is described at /openapi.json, metrics are at /metrics.
    """
    from digitkit.serve import Settings, check_installed, serve

    check_installed()
    settings = Settings(allow_hosts=tuple(allow_host or ()), debug=bool(os.environ.get("DIGITKIT_DEBUG")),
                        collect=collect)
    if collect is not None and workers not in (None, 1):
        from digitkit.errors import UsageError

        raise UsageError("--collect writes one folder from one process: use it with --workers 1")
    # The collected pictures and labels.csv have one writer: a collecting server is one process.
    count = 1 if collect is not None else default_workers() if workers is None else workers
    serve(model, host, port, on_ready=lambda url, info: _ready(url, info, host, count),
          settings=settings, workers=count, log_format=log_format)


def _ready(url: str, info: dict, host: str, workers: int) -> None:
    from digitkit.render.console import err, escape
    from digitkit.serve.server import LOCAL_HOSTS

    run = f", run {info['run']}" if info.get("run") else ""
    many = f", {workers} workers" if workers > 1 else ""
    console = err()
    console.print(f"serving {escape(info['name'])} ({info['backend']}{escape(run)}{many})", soft_wrap=True)
    if host in LOCAL_HOSTS:
        console.print("[dim]listening on localhost only: other computers cannot connect "
                      "(--host 0.0.0.0 to allow them)[/]", soft_wrap=True)
    else:
        console.print(f"[yellow]listening on {escape(host)}: anyone who can reach this computer can use "
                      "the model[/]", soft_wrap=True)
        console.print("[dim]requests must name this machine or its address in Host "
                      "(--allow-host NAME for others, e.g. behind a proxy)[/]", soft_wrap=True)
    console.print("[dim]Ctrl-C to stop[/]")
    typer.echo(url)  # data on stdout, so scripts (and tests) can read the address
