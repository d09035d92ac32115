"""`digitkit serve`: a page to draw or drop digits, and a JSON API, for one model."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import complete_model_ref


def command(
    model: Annotated[str, typer.Option(
        "--model", "-m", help="Run id, .keras/.tflite path, run folder, or model name (its latest run).",
        autocompletion=complete_model_ref)] = "cnn",
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on; 127.0.0.1 lets only this computer connect, 0.0.0.0 everyone.",
    )] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port; 0 picks a free one.")] = 8000,
    collect: Annotated[Optional[str], typer.Option(
        "--collect", metavar="DIR", show_default=False,
        help="Add \"that's wrong, it is: [digit]\" to the page; saves into DIR/<digit>/.")] = None,
) -> None:
    """Serve a page to draw or drop digits and a JSON API for predictions.

    The model loads once at startup. Ctrl-C or SIGTERM stops the server after answering
    the requests in flight. Needs the optional serve extra (Starlette, uvicorn); the API
    is described at /openapi.json.
    """
    from digitkit.serve import check_installed, serve

    check_installed()
    serve(model, host, port, on_ready=lambda url, info: _ready(url, info, host), collect=collect)


def _ready(url: str, info: dict, host: str) -> None:
    from digitkit.render.console import err, escape
    from digitkit.serve.server import LOCAL_HOSTS

    run = f", run {info['run']}" if info.get("run") else ""
    console = err()
    console.print(f"serving {escape(info['name'])} ({info['backend']}{escape(run)})", soft_wrap=True)
    if host in LOCAL_HOSTS:
        console.print("[dim]listening on localhost only: other computers cannot connect "
                      "(--host 0.0.0.0 to allow them)[/]", soft_wrap=True)
    else:
        console.print(f"[yellow]listening on {escape(host)}: anyone who can reach this computer can use "
                      "the model[/]", soft_wrap=True)
    console.print("[dim]Ctrl-C to stop[/]")
    typer.echo(url)  # data on stdout, so scripts (and tests) can read the address
