"""Running the app with uvicorn: bind first, load the model once, drain on SIGTERM, exit 0.

The socket is bound before the model loads so a busy port fails in a second with one line,
and ``port=0`` picks a free port whose URL is then printed (tests use it).
"""

from __future__ import annotations

import contextlib
import errno
import socket
from typing import Callable

import uvicorn

from digitkit.errors import UnavailableError, UsageError
from digitkit.serve.limits import Limits

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def bind(host: str, port: int) -> socket.socket:
    """A bound TCP socket (IPv4 or IPv6), or a one-line error."""
    if not 0 <= port <= 65535:
        raise UsageError(f"expected 0 <= port <= 65535. Received: port={port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        # Listening now lets clients connect (and wait) from the moment the URL is printed.
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UnavailableError(f"port {port} on {host} is already in use",
                                   hint="pick another with --port, or --port 0 for any free one") from None
        raise UnavailableError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def run(model: str, host: str, port: int, limits: Limits | None = None,
        on_ready: Callable[[str, dict], None] | None = None, collect: str | None = None) -> None:
    """Serve until SIGTERM or Ctrl-C; requests in flight are answered before returning.

    Args:
        model: the default model reference.
        host: address to listen on; 127.0.0.1 lets only this computer connect.
        port: TCP port, 0 for any free one.
        limits: request and server bounds.
        on_ready: called with the URL and the model's info once the model is loaded.
        collect: folder for the page's corrections (``--collect``).
    """
    from digitkit.serve.app import create_app

    limits = limits or Limits()
    sock = bind(host, port)
    try:
        app = create_app(model, limits, collect)
        if on_ready is not None:
            on_ready(url_of(sock), app.state.service.models.default.info)
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", server_header=False,
            # beyond this many open connections uvicorn answers 503 itself
            limit_concurrency=8 * limits.max_pending,
            timeout_graceful_shutdown=int(limits.timeout_s) + 5,
        )
        _Server(config).run(sockets=[sock])
    finally:
        sock.close()


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising the stop signal after the graceful shutdown.

    uvicorn re-raises a captured SIGTERM/SIGINT once it has drained, so the process would
    die of the signal (or reach the CLI's "interrupted" handler, exit 130). For a server,
    a stop signal is the normal way to end: requests were answered, so exit 0.
    """

    @contextlib.contextmanager
    def capture_signals(self):
        with super().capture_signals():
            yield
            self._captured_signals.clear()
