"""The ASGI app of `digitkit serve`: the page, the JSON API, and the limits around both.

Every prediction takes a ticket from a bounded gate (503 when full), reads a capped body
(413), then does all of its work - decoding, preprocessing, inference, the answer's JSON -
in one job on a fixed pool of worker threads, under a per-request deadline (504). Errors are
``{"error": "<one line>"}``; a stack trace never reaches a client.
"""

from __future__ import annotations

import asyncio
import json
import logging
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
from digitkit.serve import reading
from digitkit.serve import engine as engines
from digitkit.serve.headers import SecurityHeaders
from digitkit.serve.limits import Gate, Limits
from digitkit.serve.models import ModelCache
from digitkit.serve.uploads import PredictRequest, RequestProblem, parse_predict_request, read_body

log = logging.getLogger("digitkit.serve")

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


def _static_files() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("digitkit.serve") / "static"
    files = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1]
        if suffix in STATIC_TYPES:
            files[item.name] = (item.read_bytes(), STATIC_TYPES[suffix])
    return files


class Service:
    """State shared by the routes: loaded models, worker threads, the gate, the page files."""

    def __init__(self, model: str, limits: Limits) -> None:
        self.limits = limits
        self.models = ModelCache(model, limits.max_models)
        self.gate = Gate(limits.max_pending)
        self.pool = ThreadPoolExecutor(limits.threads, thread_name_prefix="digitkit-serve")
        self.static = _static_files()

    def submit(self, function, *args) -> asyncio.Future:
        """Run ``function`` on the pool; the gate's ticket is returned when it has finished."""
        future = self.pool.submit(function, *args)
        future.add_done_callback(lambda _: self.gate.leave())
        return asyncio.wrap_future(future)


def _predict_job(service: Service, request: PredictRequest, top_k: int, with_images: bool,
                 preprocess: bool) -> tuple[int, Any]:
    engine = service.models.get(request.options.get("model"))
    digits = [engines.Digit(u.name, None, u.unsupported) if u.unsupported
              else engines.read_digit(u.data, u.name, preprocess) for u in request.uploads]
    result = engine.predict(digits, top_k, with_images)
    if result["predictions"]:
        return 200, result  # some failures, like `predict --json` exiting 7, still answer
    failures = result["failures"]
    status = 415 if all(u.unsupported for u in request.uploads) else 400
    first = failures[0]
    message = f"{first['input']}: {first['error']}" if len(failures) == 1 else \
        f"none of the {len(failures)} images could be read (first: {first['input']}: {first['error']})"
    return status, {"error": message, "failures": failures}


def _flag(options: dict[str, str], name: str, default: bool) -> bool:
    text = options.get(name, "").strip().lower()
    if not text:
        return default
    if text not in ("1", "true", "yes", "0", "false", "no"):
        raise RequestProblem(400, f"expected {name}=true or {name}=false. Received: {name}={text[:20]!r}")
    return text in ("1", "true", "yes")


def _top_k(options: dict[str, str]) -> int:
    text = options.get("top_k", "3")
    if not text.strip().isdigit() or not 1 <= int(text) <= 10:
        raise RequestProblem(400, f"expected 1 <= top_k <= 10. Received: top_k={text[:20]!r}")
    return int(text)


async def predict(request: Request) -> Response:
    service: Service = request.app.state.service
    if not service.gate.enter():
        return error_response(503, "the server is busy; try again in a moment", {"Retry-After": "1"})
    submitted = False
    try:
        with anyio.fail_after(service.limits.timeout_s):
            body = await read_body(request, service.limits.max_body_bytes)
            parsed = await parse_predict_request(request, body, service.limits.max_files)
            top_k = _top_k(parsed.options)
            with_images = _flag(parsed.options, "image", False)
            preprocess = _flag(parsed.options, "preprocess", True)
            job = service.submit(_predict_job, service, parsed, top_k, with_images, preprocess)
            submitted = True
            status, data = await job
        return json_response(data, status)
    except RequestProblem as exc:
        return error_response(exc.status, exc.message)
    except DigitkitError as exc:
        return error_response(status_of(exc), exc.message)
    except TimeoutError:
        return error_response(504, f"the request took longer than {service.limits.timeout_s:g} s")
    finally:
        if not submitted:
            service.gate.leave()


async def models(request: Request) -> Response:
    service: Service = request.app.state.service
    found = await anyio.to_thread.run_sync(engines.list_models)
    return json_response({"default": service.models.default.info, "models": found})


async def healthz(request: Request) -> Response:
    service: Service = request.app.state.service
    return json_response({"status": "ok", "model": service.models.default.info,
                          "pending": service.gate.count, "max_pending": service.gate.limit})


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


async def _http_error(request: Request, exc: HTTPException) -> Response:
    messages = {404: "not found", 405: "method not allowed"}
    return error_response(exc.status_code, messages.get(exc.status_code, str(exc.detail)), exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error in %s %s", request.method, request.url.path)
    return error_response(500, "internal error (see the server's log)")


def create_app(model: str = "cnn", limits: Limits | None = None) -> Starlette:
    """The app, with ``model`` loaded now (once per worker process).

    Args:
        model: the default model reference, as ``digitkit predict --model`` takes it.
        limits: request and server bounds (defaults: :class:`Limits`).

    Raises:
        DigitkitError: the model cannot be resolved or loaded.
    """
    service = Service(model, limits or Limits())

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        service.pool.shutdown(wait=True)

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/static/{name}", static, methods=["GET"]),
            Route("/api/predict", predict, methods=["POST"]),
            Route("/api/read", reading.read, methods=["POST"]),
            Route("/api/models", models, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
        lifespan=lifespan,
    )
    app.state.service = service
    return SecurityHeaders(app)
