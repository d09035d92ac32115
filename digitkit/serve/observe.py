"""Around every request: an id, metrics, an optional JSON access line, and the last-resort 500.

An exception that reaches this layer is a bug. The client gets
``{"error": "internal error (request id ...)"}`` and the log one line with the same id, the
exception's type and where it was raised (module and line: no absolute paths, no message,
which may hold client data); ``--debug`` logs the whole traceback.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import traceback

log = logging.getLogger("digitkit.serve")
access = logging.getLogger("digitkit.serve.access")

REQUEST_ID = "digitkit.request_id"
# A client may send any token as the method; metrics labels and log lines stay few and known.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
REJECTED = "digitkit.rejected"  # set in the scope by whatever refused a request: "gate", "host"


def internal_error_message(request_id: str) -> str:
    return f"internal error (request id {request_id}); the server's log has the details"


def where(exc: BaseException) -> str:
    """``module:line`` of the innermost frame, e.g. ``digitkit.serve.app:120``."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    module = frame.filename.rsplit("/", 1)[-1].removesuffix(".py")
    for marker in ("/digitkit/", "/site-packages/"):
        if marker in frame.filename:
            module = frame.filename.split(marker, 1)[1].removesuffix(".py").replace("/", ".")
            if marker == "/digitkit/":
                module = "digitkit." + module
            break
    return f"{module}:{frame.lineno}"


def report_bug(exc: BaseException, request_id: str, method: str, route: str, debug: bool) -> None:
    log.error("request %s: internal error in %s %s: %s at %s%s", request_id, method, route,
              type(exc).__name__, where(exc), "" if debug else " (--debug logs the traceback)",
              exc_info=exc if debug else None)


class Observe:
    """ASGI middleware, the outermost layer.

    Args:
        app: the wrapped app.
        metrics: a :class:`digitkit.serve.metrics.Metrics`, or ``None``.
        access_log: write one JSON line per request to the ``digitkit.serve.access`` logger.
        debug: log tracebacks.
    """

    def __init__(self, app, metrics=None, access_log: bool = False, debug: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.state = app.state  # the service, for tests and the server
        self.access_log = access_log
        self.debug = debug

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = secrets.token_hex(8)
        scope[REQUEST_ID] = request_id
        started = time.perf_counter()
        state = {"status": 500, "out": 0, "in": 0, "started": False}

        async def counting_receive():
            message = await receive()
            state["in"] += len(message.get("body", b""))
            return message

        async def tagged_send(message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", request_id.encode())]}
            elif message["type"] == "http.response.body":
                state["out"] += len(message.get("body", b""))
            await send(message)

        metrics = self.metrics
        if metrics is not None:
            metrics.in_flight.inc()
        try:
            await self.app(scope, counting_receive, tagged_send)
        except Exception as exc:  # noqa: BLE001 - a bug: answered, logged in one line, never re-raised
            report_bug(exc, request_id, scope["method"] if scope["method"] in METHODS else "OTHER",
                       _route(scope), self.debug)
            if not state["started"]:
                body = json.dumps({"error": internal_error_message(request_id)}).encode()
                try:
                    await tagged_send({"type": "http.response.start", "status": 500, "headers": [
                        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                    await tagged_send({"type": "http.response.body", "body": body})
                except OSError:  # the client is gone
                    pass
        finally:
            seconds = time.perf_counter() - started
            route = _route(scope)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            if metrics is not None:
                metrics.in_flight.dec()
                metrics.observe(method, route, state["status"], seconds)
                if scope.get(REJECTED):
                    metrics.rejected.labels(scope[REJECTED]).inc()
            if self.access_log:
                access.info(json.dumps({
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
                    "request_id": request_id, "method": method, "route": route,
                    "status": state["status"], "duration_ms": round(seconds * 1000, 3),
                    "bytes_in": state["in"], "bytes": state["out"]}, separators=(",", ":")))


def _route(scope) -> str:
    """The route's template (``/v2/models/{name}/infer``), never the raw path: metrics labels
    stay few, and the log holds no client data."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
