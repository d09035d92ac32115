"""``digitkit serve --workers N``: N processes behind one port, each with the model loaded once.

The supervisor binds the socket, starts the workers (``spawn``: a fresh interpreter each, so
no model or thread state is copied by ``fork``), waits until every one has loaded the model
(or reports why it could not: the first error ends startup with that one line), then watches
them: a worker that dies is started again (at most a few times a minute). SIGTERM or Ctrl-C
sends each worker one SIGTERM; each stops accepting, answers what it admitted, and exits 0;
the supervisor exits 0 once all have.

Metrics are summed over the workers by ``prometheus-client``'s multiprocess mode, in a
temporary folder the supervisor owns.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from digitkit import errors
from digitkit.errors import DigitkitError, UnavailableError
from digitkit.serve.limits import Limits
from digitkit.serve.metrics import MULTIPROCESS_ENV

RESTARTS_PER_MINUTE = 5


def worker_main(model: str, limits: Limits, settings: Any, sock, conn: Connection, log_format: str) -> None:
    """One worker: load the model, say so (or why not) through ``conn``, serve until SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until uvicorn takes over; see server._Server
    from digitkit._internal.quiet import silence_tensorflow_startup

    silence_tensorflow_startup()  # as the CLI does: native runtime noise off the terminal
    from digitkit.serve.app import create_app
    from digitkit.serve.server import serve_app, setup_logging, worker_listener

    setup_logging(log_format)
    try:
        app = create_app(model, limits, settings)
    except DigitkitError as exc:
        conn.send(("error", type(exc).__name__, exc.exit_code, exc.message, exc.hint))
        return
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        listener = sock  # one socket shared by every worker (see server.balanced_workers)
    else:
        # Listening only now, with the model loaded: the kernel hands no connection to a
        # worker that could not answer it yet (a worker restarted after a crash, too).
        listener = worker_listener(sock)
        sock.close()
    conn.send(("ready", app.state.service.models.default.info))
    conn.close()
    serve_app(app, listener, limits, worker=True)


def rebuilt(name: str, exit_code: int, message: str, hint: str | None) -> DigitkitError:
    """A worker's error, raised again in the supervisor with the same class (or exit code)."""
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, DigitkitError)):
        cls = next((c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, DigitkitError)
                    and c.exit_code == exit_code), DigitkitError)
    return cls(message, hint=hint)


@contextlib.contextmanager
def _real_stderr():
    """fd 2 pointing where ``sys.stderr`` writes while a worker starts (it inherits fd 2).

    The CLI diverts fd 2 to a temporary file to catch native libraries' noise and writes its
    own lines through a copy of the terminal's descriptor; a worker must get the terminal.
    """
    try:
        real = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        real = 2
    if real == 2:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(real, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class Supervisor:
    """Starts, watches and stops the workers (see the module docstring)."""

    def __init__(self, model: str, limits: Limits, settings: Any, sock, count: int, log_format: str) -> None:
        self.args = (model, limits, settings, sock)
        self.count = count
        self.log_format = log_format
        self.limits = limits
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[Any] = []
        self.stopping = threading.Event()
        self.restarts: list[float] = []

    def run(self, on_ready: Callable[[dict], None]) -> None:
        """Start the workers, call ``on_ready`` with the model's info, serve until a stop signal."""
        metrics_dir = tempfile.mkdtemp(prefix="digitkit-serve-metrics-")
        previous_env = os.environ.get(MULTIPROCESS_ENV)
        os.environ[MULTIPROCESS_ENV] = metrics_dir  # inherited by the spawned workers
        handlers = {sig: signal.signal(sig, lambda *_: self.stopping.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            info = self._start_all()
            if info is not None:
                on_ready(info)
                self._watch()
        finally:
            self._stop_all()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            if previous_env is None:
                os.environ.pop(MULTIPROCESS_ENV, None)
            else:
                os.environ[MULTIPROCESS_ENV] = previous_env
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _spawn(self) -> tuple[Any, Connection]:
        receiving, sending = self.context.Pipe(duplex=False)
        model, limits, settings, sock = self.args
        process = self.context.Process(target=worker_main, name="digitkit-serve-worker", daemon=False,
                                       args=(model, limits, settings, sock, sending, self.log_format))
        with _real_stderr():
            process.start()
        sending.close()
        return process, receiving

    def _start_all(self) -> dict | None:
        """Every worker started and ready; ``None`` when a stop signal came first."""
        waiting = dict(self._spawn() for _ in range(self.count))
        self.processes = list(waiting)
        info = None
        while waiting:
            if self.stopping.is_set():
                return None
            ready = wait([*waiting.values(), *(p.sentinel for p in waiting)], timeout=0.2)
            for process, conn in list(waiting.items()):
                if conn in ready:
                    try:
                        message = conn.recv()
                    except EOFError:
                        message = ("died",)
                elif process.sentinel in ready and not conn.poll():
                    message = ("died",)
                else:
                    continue
                del waiting[process]
                conn.close()
                if message[0] == "ready":
                    info = info or message[1]
                elif message[0] == "error":
                    raise rebuilt(*message[1:])
                else:
                    raise UnavailableError(f"a server worker exited while loading the model "
                                           f"(exit code {process.exitcode})")
        return info

    def _watch(self) -> None:
        while not self.stopping.wait(0.5):
            for i, process in enumerate(self.processes):
                if process.is_alive() or self.stopping.is_set():
                    continue
                self._forget(process)
                now = time.monotonic()
                self.restarts = [t for t in self.restarts if now - t < 60] + [now]
                if len(self.restarts) > RESTARTS_PER_MINUTE:
                    raise UnavailableError("server workers keep exiting; stopping "
                                           f"(last exit code {process.exitcode})")
                replacement, conn = self._spawn()
                self.processes[i] = replacement
                threading.Thread(target=self._drain_pipe, args=(conn,), daemon=True).start()

    @staticmethod
    def _drain_pipe(conn: Connection) -> None:
        with conn:
            try:
                conn.recv()
            except EOFError:
                pass

    def _stop_all(self) -> None:
        alive = [p for p in self.processes if p.is_alive()]
        for process in alive:
            os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.limits.timeout_s + 10
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for process in self.processes:
            self._forget(process)

    @staticmethod
    def _forget(process) -> None:
        """Tell the metrics that a worker's live gauges no longer count."""
        if process.pid is None:
            return
        try:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(process.pid)
        except (ImportError, OSError):
            pass
