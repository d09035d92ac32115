"""The ASGI app of `digitkit serve`: the page, the JSON API, the inference protocol, metrics.

Every prediction takes a ticket from a bounded gate (503 when full), reads a capped body
(413), then does all of its work - decoding, preprocessing, inference, the answer's JSON -
in one job on a fixed pool of worker threads, under a per-request deadline (504). Errors are
``{"error": "<one line>"}``; a stack trace never reaches a client.

Routes come in sections (:mod:`digitkit.serve.api`, :mod:`digitkit.serve.oip`, the page and
operations here), each with its part of the OpenAPI document, so a new one slots in.

Layers, outermost first: :class:`~digitkit.serve.observe.Observe` (request id, metrics,
access line, last-resort 500), :class:`~digitkit.serve.headers.SecurityHeaders`,
:class:`~digitkit.serve.hosts.HostGuard`, then Starlette's routing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digitkit.errors import DigitkitError, InputError, ModelRefusedError, UnavailableError, UsageError
from digitkit.serve import Settings
from digitkit.serve.headers import SecurityHeaders
from digitkit.serve.hosts import HostGuard, allowed_hosts
from digitkit.serve.limits import Gate, Limits
from digitkit.serve.models import ModelCache
from digitkit.serve.observe import REJECTED, REQUEST_ID, Observe, internal_error_message
from digitkit.serve.uploads import RequestProblem, read_body

STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status, headers=headers, media_type="application/json")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)


def status_of(exc: DigitkitError) -> int:
    """The HTTP status for a library error: what the CLI maps to an exit code."""
    if isinstance(exc, UsageError):  # unknown model, run or name; bad option values are checked earlier
        return 404
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, ModelRefusedError):
        return 422
    if isinstance(exc, UnavailableError):
        return 503
    return 500


def server_folders() -> list[str]:
    """Where this server's files are: the digitkit home, the working folder, the user's home,
    Python's prefix, the temporary folder. Answers name files in them by their last part."""
    import sys
    import tempfile

    from digitkit import home

    folders = {str(home.home_dir()), os.getcwd(), os.path.expanduser("~"), sys.prefix, tempfile.gettempdir(),
               os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    folders |= {os.path.realpath(f) for f in folders}
    return sorted((f.rstrip("/") for f in folders if len(f) > 1), key=len, reverse=True)


def without_paths(message: str, folders: list[str] | None = None) -> str:
    """``message`` with every path inside :func:`server_folders` cut to its last part.

    Decided by the text alone, never by looking at the disk: the answer to a client's own
    text (``model=/etc/passwd``) must not depend on what exists.
    """
    for folder in folders if folders is not None else server_folders():
        pattern = re.escape(folder) + r"(?:/[^\s'\"()]*)?"
        message = re.sub(pattern, lambda m: m.group().rstrip("/").rsplit("/", 1)[-1] or "/", message)
    return message


def _static_files() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("digitkit.serve") / "static"
    files = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1]
        if suffix in STATIC_TYPES:
            files[item.name] = (item.read_bytes(), STATIC_TYPES[suffix])
    return files


class Service:
    """State shared by the routes: loaded models, worker threads, the gate, metrics."""

    def __init__(self, model: str, limits: Limits, settings: Settings) -> None:
        self.limits = limits
        self.settings = settings
        self.metrics = None
        if settings.metrics:
            from digitkit.serve.metrics import Metrics

            self.metrics = Metrics()
        self.collector = None
        if settings.collect is not None:  # before the model loads: an unwritable folder fails at once
            from digitkit.serve.collect import Collector

            self.collector = Collector(settings.collect)
        self.models = ModelCache(model, limits.max_models, settings.debug, on_load=self.loaded)
        self.loaded(self.models.default)
        self.gate = Gate(limits.max_pending)
        self.pool = ThreadPoolExecutor(limits.threads, thread_name_prefix="digitkit-serve")
        self.static = _static_files()

    def loaded(self, engine) -> None:
        if self.metrics is not None:
            self.metrics.load_seconds.labels(engine.label).set(engine.load_seconds)

    def predicted(self, engine, count: int) -> None:
        if self.metrics is not None and count:
            self.metrics.predictions.labels(engine.label).inc(count)

    def submit(self, function, *args) -> asyncio.Future:
        """Run ``function`` on the pool; the gate's ticket is returned when it has finished."""
        future = self.pool.submit(function, *args)
        future.add_done_callback(lambda _: self.gate.leave())
        return asyncio.wrap_future(future)

    def message(self, exc: DigitkitError) -> str:
        return exc.message if self.settings.debug else without_paths(exc.message)


# What a gated route does with the request's body: it returns the job to run on the pool
# (a function and its arguments); the job returns a Response or (status, JSON data).
Prepare = Callable[[Request, bytes], Awaitable[tuple[Callable[..., Any], tuple]]]


async def gated(request: Request, prepare: Prepare) -> Response:
    """Admit, read the capped body, prepare, run the job on the pool, all within the deadline."""
    service: Service = request.app.state.service
    if not service.gate.enter():
        request.scope[REJECTED] = "gate"
        return error_response(503, "the server is busy; try again in a moment", {"Retry-After": "1"})
    submitted = False
    try:
        with anyio.fail_after(service.limits.timeout_s):
            body = await read_body(request, service.limits.max_body_bytes)
            function, args = await prepare(request, body)
            job = service.submit(function, *args)
            submitted = True
            result = await job
        return result if isinstance(result, Response) else json_response(result[1], result[0])
    except RequestProblem as exc:
        return error_response(exc.status, exc.message)
    except DigitkitError as exc:
        return error_response(status_of(exc), service.message(exc))
    except TimeoutError:
        return error_response(504, f"the request took longer than {service.limits.timeout_s:g} s")
    finally:
        if not submitted:
            service.gate.leave()


async def healthz(request: Request) -> Response:
    service: Service = request.app.state.service
    return json_response({"status": "ok", "model": service.models.default.info,
                          "collect": service.collector is not None,
                          "pending": service.gate.count, "max_pending": service.gate.limit})


async def metrics(request: Request) -> Response:
    service: Service = request.app.state.service
    if service.metrics is None:
        return error_response(404, "not found")
    body, media_type = await anyio.to_thread.run_sync(service.metrics.exposition)
    return Response(body, media_type=media_type)


async def openapi(request: Request) -> Response:
    from digitkit.serve.openapi import document

    return json_response(document(request.app.state.service.limits))


async def page(request: Request) -> Response:
    return _static(request.app.state.service, "index.html")


async def static(request: Request) -> Response:
    return _static(request.app.state.service, request.path_params["name"])


def _static(service: Service, name: str) -> Response:
    found = service.static.get(name)
    if found is None:
        return error_response(404, "not found")
    body, media_type = found
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})


def routes() -> list[Route]:
    """Every route, section by section."""
    from digitkit.serve import api, oip

    return [
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        *api.routes(),
        *oip.routes(),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]


async def _http_error(request: Request, exc: HTTPException) -> Response:
    messages = {404: "not found", 405: "method not allowed"}
    return error_response(exc.status_code, messages.get(exc.status_code, str(exc.detail)), exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette re-raises after this answer; Observe logs it once, with the same request id.
    return error_response(500, internal_error_message(request.scope.get(REQUEST_ID, "?")))


def create_app(model: str = "cnn", limits: Limits | None = None, settings: Settings | None = None):
    """The app, with ``model`` loaded now (once per worker process).

    Args:
        model: the default model reference, as ``digitkit predict --model`` takes it.
        limits: request and server bounds (defaults: :class:`Limits`).
        settings: Host names, debug, logging, metrics (defaults: :class:`Settings`).

    Raises:
        DigitkitError: the model cannot be resolved or loaded.
    """
    settings = settings or Settings()
    service = Service(model, limits or Limits(), settings)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        service.pool.shutdown(wait=True)

    app = Starlette(routes=routes(), exception_handlers={HTTPException: _http_error, Exception: _unexpected},
                    lifespan=lifespan)
    app.state.service = service
    guarded = HostGuard(app, allowed_hosts(settings.host, settings.allow_hosts))
    return Observe(SecurityHeaders(guarded), service.metrics, settings.access_log, settings.debug)
