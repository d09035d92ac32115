"""The JSON API: ``POST /api/predict`` (what ``digitkit predict --json`` answers) and
``GET /api/models``."""

from __future__ import annotations

from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digitkit.serve import engine as engines
from digitkit.serve.app import Service, gated, json_response
from digitkit.serve import reading
from digitkit.serve.collect import collect
from digitkit.serve.uploads import PredictRequest, RequestProblem, parse_predict_request


def routes() -> list[Route]:
    return [
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/models", models, methods=["GET"]),
        Route("/api/read", reading.read, methods=["POST"]),
        Route("/api/collect", collect, methods=["POST"]),  # 404 unless serve --collect DIR
    ]


def _predict_job(service: Service, request: PredictRequest, top_k: int, with_images: bool,
                 preprocess: bool, explain: bool = False) -> tuple[int, Any]:
    engine = service.models.get(request.options.get("model"))
    digits = [engines.Digit(u.name, None, u.unsupported) if u.unsupported
              else engines.read_digit(u.data, u.name, preprocess, explain) for u in request.uploads]
    result = engine.predict(digits, top_k, with_images)
    service.predicted(engine, len(result["predictions"]))
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

    async def prepare(request: Request, body: bytes):
        parsed = await parse_predict_request(request, body, service.limits.max_files)
        options = (_top_k(parsed.options), _flag(parsed.options, "image", False),
                   _flag(parsed.options, "preprocess", True), _flag(parsed.options, "explain", False))
        return _predict_job, (service, parsed, *options)

    return await gated(request, prepare)


async def models(request: Request) -> Response:
    service: Service = request.app.state.service
    found = await anyio.to_thread.run_sync(service.models.catalog.listing)
    return json_response({"default": service.models.default.info, "models": found})
