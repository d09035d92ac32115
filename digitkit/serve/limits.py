"""How much one request and the whole server may take, and the gate that enforces the total.

A flood must meet 503 answers, not a growing queue: every prediction holds a ticket from
:class:`Gate` from the moment it is admitted until its worker-thread job has finished (even
when the client stopped waiting), so memory is bounded by ``max_pending`` requests of at most
``max_body_bytes`` each.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds for `digitkit serve`.

    Attributes:
        max_body_bytes: largest request body; checked from Content-Length before reading
            and counted while streaming (413 beyond it).
        max_files: most images in one request (413 beyond it).
        timeout_s: time for one request from admission to answer, upload included (504 after).
        threads: worker threads for decoding, preprocessing and inference.
        max_pending: predictions admitted at once, running or waiting (503 beyond it).
        max_models: models kept loaded besides the default one (least recently used dropped).
        header_timeout_s: time a connection has to send a request's headers, counted from
            the moment it is open and idle (a client dripping one header a second is closed).
        keepalive_timeout_s: how long an idle keep-alive connection stays open.
        max_connections: open connections per worker process; beyond it the longest-idle
            connection is closed to make room (a new one is refused only when every
            connection is in the middle of a request), so idle clients cannot lock others out.
    """

    max_body_bytes: int = 10 * 1024 * 1024
    max_files: int = 64
    timeout_s: float = 15.0
    threads: int = max(1, min(4, os.cpu_count() or 1))
    max_pending: int = 64
    max_models: int = 3
    header_timeout_s: float = 10.0
    keepalive_timeout_s: float = 5.0
    max_connections: int = 1024


class Gate:
    """A counter of admitted requests that refuses, rather than queues, beyond its limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._count = 0
        self._lock = threading.Lock()  # released from worker threads too

    @property
    def count(self) -> int:
        return self._count

    def enter(self) -> bool:
        """Take a ticket; ``False`` when the server is full."""
        with self._lock:
            if self._count >= self.limit:
                return False
            self._count += 1
            return True

    def leave(self) -> None:
        """Give a ticket back."""
        with self._lock:
            self._count -= 1
