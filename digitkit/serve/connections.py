"""Connections that a slow or idle client cannot hold: uvicorn's HTTP protocol, bounded.

uvicorn waits for a new connection's first request forever, and answers 503 to *everyone*
once ``limit_concurrency`` connections are open: 515 sockets that send nothing lock every
other client out, ``/healthz`` included. Here instead:

- a **header deadline**: from the moment a connection is open and idle, the client has
  :attr:`Limits.header_timeout_s` to finish sending a request's headers (dripping them one
  line a second does not reset it), or the connection is closed;
- the **keep-alive timeout** (uvicorn's) closes a connection idle after an answer;
- a **connection cap** per worker: past it the longest-idle connection is closed to make
  room, so a new client (a health check, a scrape of ``/metrics``) always gets in unless
  every connection is in the middle of a request, which the prediction gate bounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from digitkit.serve.limits import Limits

BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"retry-after: 1\r\ncontent-length: 55\r\n\r\n"
        b'{"error": "the server is busy; try again in a moment"}\n')


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a connection cap.

    Configure a subclass with :func:`protocol_for`; the class attributes are its settings.
    """

    header_timeout_s: float = 10.0
    max_connections: int = 1024
    on_reject: Callable[[], None] | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer = None
        self._idle_since = time.monotonic()
        self._arm_header_deadline()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._cancel_header_deadline()
        self._idle_since = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing():
            self._idle_since = time.monotonic()
            self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_deadline_passed)

    def _cancel_header_deadline(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _header_deadline_passed(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _is_idle(self) -> bool:
        return getattr(self, "_idle_since", None) is not None and not self.transport.is_closing()

    def _make_room(self) -> None:
        idle = [c for c in self.connections if c is not self and isinstance(c, BoundedHttpProtocol) and c._is_idle()]
        if self.on_reject is not None:
            self.on_reject()
        if idle:
            min(idle, key=lambda c: c._idle_since).transport.close()
            return
        # Every other connection is mid-request: this one is the one to go.
        self._cancel_header_deadline()
        self.transport.write(BUSY)
        self.transport.close()


def protocol_for(limits: Limits, on_reject: Callable[[], None] | None = None) -> type[BoundedHttpProtocol]:
    """A protocol class with ``limits``' header deadline and connection cap."""
    return type("BoundedHttpProtocol", (BoundedHttpProtocol,), {
        "header_timeout_s": limits.header_timeout_s, "max_connections": limits.max_connections,
        "on_reject": staticmethod(on_reject) if on_reject is not None else None})
