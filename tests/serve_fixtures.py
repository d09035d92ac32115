"""A real `digitkit serve` process on a free port, for the SIGTERM and browser tests."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path


class Server:
    """``digitkit serve --port 0`` in a subprocess; ``url`` is what it printed."""

    def __init__(self, model: str | Path, home: Path, timeout: float = 120.0, args: tuple[str, ...] = ()) -> None:
        env = {**os.environ, "DIGITKIT_HOME": str(home)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "digitkit", "serve", "--model", str(model), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            self.url = lines.get(timeout=timeout).strip()
        except queue.Empty:
            self.stop()
            raise RuntimeError("digitkit serve printed no URL in time") from None
        if not self.url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"digitkit serve did not start: {self.stop()[1][-2000:]}")

    def stop(self, timeout: float = 60.0) -> tuple[int, str]:
        """SIGTERM, then the exit code and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err
