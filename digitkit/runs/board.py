"""TensorBoard over chosen runs, on 127.0.0.1 only (``digitkit runs board``).

Every fit writes event files into its run's ``tensorboard/`` folder; this starts
TensorBoard as a child process over those folders (``--logdir_spec id:path,...``, so each
run shows under its own id) and waits, bounded, until it answers. TensorBoard itself never
runs inside digitkit's process: it may import TensorFlow, and its server is its own.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Sequence

from digitkit.errors import UnavailableError, UsageError
from digitkit.runs.directory import Run
from digitkit.runs.listing import list_runs
from digitkit.runs.naming import get_run

HOST = "127.0.0.1"
DEFAULT_PORT = 6006  # TensorBoard's own default: what its users type
FOLDER = "tensorboard"
START_TIMEOUT_S = 90.0  # TensorBoard imports TensorFlow when it finds it: seconds on a cold disk
HINT = "pip install tensorboard (or reinstall digitkit, which depends on it)"


@dataclass
class Board:
    """A running TensorBoard: its URL, the runs it shows and the child process."""

    url: str
    port: int
    runs: list[str]
    process: Any = field(repr=False)
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "port": self.port, "runs": self.runs, "skipped": self.skipped,
                "pid": self.process.pid}

    def wait(self) -> int:
        return self.process.wait()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Terminate TensorBoard (then kill it if it does not stop within ``timeout_s``)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def tensorboard_installed() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def board_runs(refs: Sequence[str] = ()) -> tuple[list[Run], list[str]]:
    """The runs to show (``refs``, or every run) that have event files, and the ids skipped."""
    chosen = [get_run(ref) for ref in refs] if refs else list_runs()
    shown, skipped = [], []
    for run in chosen:
        (shown if (run.path / FOLDER).is_dir() else skipped).append(run)
    if not shown:
        what = "the chosen runs have" if refs else "no run has"
        raise UsageError(f"{what} no TensorBoard logs", hint="every `digitkit fit` writes them into its run "
                         "(unless --no-tensorboard); train one first")
    return shown, [r.id for r in skipped]


def free_port(preferred: int = DEFAULT_PORT) -> int:
    """``preferred`` when nothing listens there, else a port the system picks."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise UnavailableError(f"no free port on {HOST}")


def start_board(refs: Sequence[str] = (), *, port: int | None = None,
                timeout_s: float = START_TIMEOUT_S) -> Board:
    """Start TensorBoard on 127.0.0.1 over ``refs`` (default: all runs) and wait until it answers.

    Raises:
        UnavailableError: tensorboard is not installed, or it did not start (its last words).
        UsageError: no chosen run has TensorBoard logs; a bad port.
    """
    if not tensorboard_installed():
        raise UnavailableError("TensorBoard is not installed", hint=HINT)
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"expected --port between 1 and 65535. Received: port={port}")
    shown, skipped = board_runs(refs)
    port = port or free_port()
    spec = ",".join(f"{run.id}:{run.path / FOLDER}" for run in shown)
    command = [sys.executable, "-m", "tensorboard.main", "--logdir_spec", spec, "--host", HOST,
               "--port", str(port), "--load_fast", "false", "--reload_interval", "5"]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    url = f"http://{HOST}:{port}/"
    board = Board(url, port, [r.id for r in shown], process, skipped)
    try:
        _wait_until_answering(board, timeout_s)
    except BaseException:
        board.stop()
        raise
    return board


def _wait_until_answering(board: Board, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if board.process.poll() is not None:
            last = deque((board.process.stderr.read(64_000) or "").splitlines(), maxlen=1)
            reason = last[0].strip()[:200] if last else f"exit status {board.process.returncode}"
            raise UnavailableError(f"TensorBoard did not start: {reason}")
        try:
            with urllib.request.urlopen(board.url + "data/environment", timeout=2) as answer:
                if answer.status == 200:
                    _quiet_stderr(board)
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    raise UnavailableError(f"TensorBoard did not answer on {board.url} within {timeout_s:.0f} s")


def _quiet_stderr(board: Board) -> None:
    """Drain TensorBoard's stderr in the background: a full pipe would block it."""
    import threading

    def drain() -> None:
        for _ in board.process.stderr:
            pass

    threading.Thread(target=drain, daemon=True).start()
