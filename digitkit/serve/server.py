"""Running the app with uvicorn: bind first, load the model, drain on SIGTERM, exit 0.

The socket is bound before the model loads so a busy port fails in a second with one line,
and ``port=0`` picks a free port whose URL is then printed (tests use it). With several
workers (:mod:`digitkit.serve.workers`) every process serves the same socket.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import logging
import resource
import signal
import socket
import sys
from collections.abc import Callable

import uvicorn

from digitkit.errors import UnavailableError, UsageError
from digitkit.serve.limits import Limits

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
BACKLOG = 2048
LOG_FORMATS = ("text", "json")


def balanced_workers() -> bool:
    """Whether each worker can listen on its own socket of the shared port, with the kernel
    spreading new connections evenly over them (``SO_REUSEPORT`` on Linux; elsewhere the
    option does not balance, and the workers share one socket)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind(host: str, port: int, reserve: bool = False) -> socket.socket:
    """A bound TCP socket (IPv4 or IPv6), or a one-line error.

    Args:
        reserve: only hold the port (``SO_REUSEPORT``, not listening) for workers that each
            listen on it with :func:`worker_listener`; a socket that does not listen is
            never handed a connection.
    """
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
        if reserve:
            # Bound plainly first: SO_REUSEPORT alone would let this server join the port of
            # another one of the same user (its workers' sockets) instead of finding it busy.
            address = sock.getsockname()
            sock.close()
            sock = socket.socket(family, kind, proto)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
        else:
            # Listening now lets clients connect (and wait) from the moment the URL is printed.
            sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UnavailableError(f"port {port} on {host} is already in use",
                                   hint="pick another with --port, or --port 0 for any free one") from None
        raise UnavailableError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def worker_listener(reserved: socket.socket) -> socket.socket:
    """A worker's own listening socket on the port ``reserved`` holds (see :func:`bind`).

    Workers sharing one listening socket do not share its connections: the first to wake
    accepts every connection waiting (asyncio accepts up to the backlog at once), so a
    burst of keep-alive clients, a benchmark's or a proxy's pool, all landed on one worker
    while the other idled (16 of 16 connections, block after block). With a socket each,
    the kernel spreads connections by their address hash (201 / 199 of 400).
    """
    sock = socket.socket(reserved.family, reserved.type, reserved.proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(reserved.getsockname())
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def raise_file_limit(wanted: int) -> None:
    """Let this process hold ``wanted`` open files if the hard limit allows (each connection
    is one; the common soft limit of 1024 would refuse connections below the cap)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def setup_logging(log_format: str) -> None:
    """Status and errors as text on stderr; with ``json``, one access line per request too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("digitkit.serve")
    if not log.handlers:
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    access = logging.getLogger("digitkit.serve.access")
    access.disabled = log_format != "json"


def serve_app(app, sock: socket.socket, limits: Limits, worker: bool = False) -> None:
    """Serve ``app`` on ``sock`` until SIGTERM (or SIGINT, outside a worker); then drain."""
    # What is alive now (the model, the libraries) lives as long as the process: frozen out
    # of the collector's sight, a full collection scans only what requests made. Unfrozen,
    # each one walked every object and stopped the worker for 40-60 ms (2.5 ms frozen), a
    # few times per 6,000 requests: with 16 clients waiting each time, that was the p99.
    gc.collect()
    gc.freeze()
    make_server(app, limits, worker).run(sockets=[sock])


def make_server(app, limits: Limits, worker: bool = False) -> uvicorn.Server:
    """The uvicorn server for ``app``, with the bounded connections of ``limits``."""
    from digitkit.serve.connections import protocol_for

    metrics = app.state.service.metrics
    on_reject = metrics.rejected.labels("connections").inc if metrics is not None else None
    raise_file_limit(limits.max_connections + 256)
    config = uvicorn.Config(
        app, http=protocol_for(limits, on_reject), log_level="warning", access_log=False, lifespan="on",
        server_header=False,
        # No uvicorn-wide 503: its limit counts idle connections too, so idle clients could lock
        # everyone out. The connection cap (connections.py) and the gate (limits.py) bound the load.
        limit_concurrency=None,
        timeout_keep_alive=max(1, round(limits.keepalive_timeout_s)),
        timeout_graceful_shutdown=int(limits.timeout_s) + 5,
    )
    return _Server(config, worker)


def run(model: str, host: str, port: int, limits: Limits | None = None,
        on_ready: Callable[[str, dict], None] | None = None, *, settings=None, workers: int = 1,
        log_format: str = "text") -> None:
    """Serve until SIGTERM or Ctrl-C; requests in flight are answered before returning.

    Args:
        model: the default model reference.
        host: address to listen on; 127.0.0.1 lets only this computer connect.
        port: TCP port, 0 for any free one.
        limits: request and server bounds.
        on_ready: called with the URL and the model's info once the model is loaded (in
            every worker).
        settings: :class:`digitkit.serve.Settings` (its ``host`` is set to ``host``).
        workers: processes serving the port, each with the model loaded once.
        log_format: ``text``, or ``json`` for one access line per request on stderr.
    """
    import dataclasses

    from digitkit.serve import Settings

    if log_format not in LOG_FORMATS:
        raise UsageError(f"expected log format in {LOG_FORMATS}. Received: {log_format!r}")
    if not 1 <= workers <= 64:
        raise UsageError(f"expected 1 <= workers <= 64. Received: workers={workers}")
    limits = limits or Limits()
    if workers > 1:
        # The cores are shared by the workers: more threads than cores only queue up for them.
        limits = dataclasses.replace(limits, threads=max(1, limits.threads // workers))
    settings = dataclasses.replace(settings or Settings(), host=host, access_log=log_format == "json")
    setup_logging(log_format)
    sock = bind(host, port, reserve=workers > 1 and balanced_workers())
    try:
        if workers > 1:
            from digitkit.serve.workers import Supervisor

            Supervisor(model, limits, settings, sock, workers, log_format).run(
                lambda info: on_ready(url_of(sock), info) if on_ready is not None else None)
            return
        from digitkit.serve.app import create_app

        app = create_app(model, limits, settings)
        if on_ready is not None:
            on_ready(url_of(sock), app.state.service.models.default.info)
        serve_app(app, sock, limits)
    finally:
        sock.close()


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising the stop signal after the graceful shutdown.

    uvicorn re-raises a captured SIGTERM/SIGINT once it has drained, so the process would
    die of the signal (or reach the CLI's "interrupted" handler, exit 130). For a server,
    a stop signal is the normal way to end: requests were answered, so exit 0.

    A worker ignores SIGINT: Ctrl-C reaches every process of the terminal's group, and the
    supervisor alone decides, sending each worker one SIGTERM.
    """

    def __init__(self, config: uvicorn.Config, worker: bool = False) -> None:
        super().__init__(config)
        self.worker = worker

    def handle_exit(self, sig: int, frame) -> None:
        if self.worker and sig == signal.SIGINT:
            return
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self):
        with super().capture_signals():
            yield
            self._captured_signals.clear()
