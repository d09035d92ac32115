"""``POST /api/read``: whole numbers in uploaded pictures, the same JSON as ``read --json``.

Uploads and options arrive as for ``/api/predict`` (multipart files or a raw image body;
``top_k``, ``model``, ``digits``, ``keep_marks``, ``reader`` from the query string or form fields).
Pictures are planned on the worker threads outside the model's lock; only the model call
takes it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from digitkit.errors import InputError


def _digits(options: dict[str, str]) -> int | None:
    from digitkit.serve.uploads import RequestProblem

    text = options.get("digits", "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 200:
        raise RequestProblem(400, f"expected 1 <= digits <= 200. Received: digits={text[:20]!r}")
    return int(text)


def _reader(options: dict[str, str]) -> str:
    from digitkit.reading.sequence import READERS
    from digitkit.serve.uploads import RequestProblem

    text = options.get("reader", "").strip() or "auto"
    if text not in READERS:
        raise RequestProblem(400, f"expected reader in {', '.join(READERS)}. Received: reader={text[:20]!r}")
    return text


def _read_job(service: Any, request: Any, top_k: int, digits: int | None, keep_marks: bool,
              reader: str = "auto") -> tuple[int, Any]:
    from digitkit.intake import decode, grey_or_bytes
    from digitkit.reading.number import plan
    from digitkit.reading.reader import read_planned
    from digitkit.reading.results import ReadFailure

    engine = service.models.get(request.options.get("model"))
    planned: list[Any] = []
    for upload in request.uploads:
        if upload.unsupported:
            planned.append(ReadFailure(upload.name, upload.unsupported))
            continue
        try:
            grey = grey_or_bytes(decode(upload.data, upload.name))
            planned.append(plan(upload.name, grey, digits=digits))
        except InputError as exc:
            message = exc.message[len(upload.name):].lstrip(": ").strip() if exc.message.startswith(upload.name) \
                else exc.message
            planned.append(ReadFailure(upload.name, message))
    answers = read_planned(planned, engine, top_k=top_k, digits=digits, keep_marks=keep_marks, reader=reader)
    readings = [a.to_dict() for a in answers if not isinstance(a, ReadFailure)]
    failures = [a.to_dict() for a in answers if isinstance(a, ReadFailure)]
    result = {"model": engine.info, "readings": readings, "failures": failures}
    if readings:
        return 200, result
    status = 415 if all(u.unsupported for u in request.uploads) else 400
    first = failures[0]
    message = f"{first['input']}: {first['error']}" if len(failures) == 1 else \
        f"none of the {len(failures)} pictures could be read (first: {first['input']}: {first['error']})"
    return status, {"error": message, "failures": failures}


async def read(request: Request) -> Response:
    """Admitted, bounded and timed like ``/api/predict`` (:func:`digitkit.serve.app.gated`)."""
    from digitkit.serve.api import _flag, _top_k
    from digitkit.serve.app import gated
    from digitkit.serve.uploads import parse_predict_request

    service = request.app.state.service

    async def prepare(request: Request, body: bytes):
        parsed = await parse_predict_request(request, body, service.limits.max_files)
        return _read_job, (service, parsed, _top_k(parsed.options), _digits(parsed.options),
                           _flag(parsed.options, "keep_marks", False), _reader(parsed.options))

    return await gated(request, prepare)


def openapi_path(limits: Any, option: Any, error: Any) -> dict[str, Any]:
    """``POST /api/read`` for the OpenAPI document (:mod:`digitkit.serve.openapi`)."""
    from digitkit.reading.sequence import READERS

    megabytes = f"{limits.max_body_bytes / (1024 * 1024):g} MB"
    return {"post": {
        "summary": "Read the whole number in one or more pictures",
        "description": f"Uploads as for /api/predict (at most {limits.max_files} files, {megabytes}, "
                       f"{limits.timeout_s:g} s). The answer is what `digitkit read --json` prints.",
        "parameters": [
            option("top_k", {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
                   "How many digits to rank for each digit found."),
            option("digits", {"type": "integer", "minimum": 1, "maximum": 200},
                   "Read exactly this many digits (the best split), as `digitkit read --digits`."),
            option("keep_marks", {"type": "boolean", "default": False}, "Keep . , - between digits in the text."),
            option("reader", {"type": "string", "enum": list(READERS), "default": "auto"},
                   "Which reader answers, as `digitkit read --reader`."),
            option("model", {"type": "string"}, "A run id or model name from GET /api/models."),
            option("name", {"type": "string"}, "The input's name for a raw image body."),
        ],
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        }},
        "responses": {
            "200": {"description": "Readings", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ReadResult"}}}},
            "400": error("No picture could be read, a malformed form, or a bad option"),
            "404": error("Unknown model"),
            "422": error("The model was refused (broken or unsafe)"),
            "413": error(f"Request larger than {megabytes} or more than {limits.max_files} files"),
            "415": error("Not multipart/form-data, not an image"),
            "503": error("Too many requests in progress; retry after the Retry-After header"),
            "504": error(f"The request took longer than {limits.timeout_s:g} s"),
        },
    }}


def openapi_schemas() -> dict[str, Any]:
    top_k = {"type": "array", "items": {"type": "object", "properties": {
        "digit": {"type": "integer"}, "probability": {"type": "number"}}}}
    status = {"type": "string", "enum": ["ok", "unsure", "not-a-digit"]}
    return {
        "DigitRead": {"type": "object", "properties": {
            "box": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4},
            "digit": {"type": "integer"}, "confidence": {"type": "number"}, "status": status,
            "top_k": top_k}},
        "Reading": {"type": "object", "properties": {
            "input": {"type": "string"}, "text": {"type": "string"}, "confidence": {"type": "number"},
            "status": status, "size": {"type": "array", "items": {"type": "integer"}},
            "digits": {"type": "array", "items": {"$ref": "#/components/schemas/DigitRead"}},
            "reader": {"type": "string", "enum": ["classic", "sequence", "mixed"]},
            "line_readers": {"type": "array", "items": {"type": "string", "enum": ["classic", "sequence"]}}}},
        "ReadResult": {"type": "object", "properties": {
            "model": {"$ref": "#/components/schemas/ModelInfo"},
            "readings": {"type": "array", "items": {"$ref": "#/components/schemas/Reading"}},
            "failures": {"type": "array", "items": {"type": "object", "properties": {
                "input": {"type": "string"}, "error": {"type": "string"}}}}}},
    }
