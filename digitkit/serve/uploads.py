"""Reading a prediction request: a capped body, then its images and options.

The body is never read past :attr:`Limits.max_body_bytes`: a larger Content-Length is
refused before the first byte, and the bytes are counted as they stream in (a client may
lie about, or omit, the length).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from digitkit.errors import printable

RAW_TYPES = ("image/", "application/octet-stream")
MAX_NAME = 200


class RequestProblem(Exception):
    """A request the server answers with ``status`` and a one-line JSON error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Upload:
    """One image in the request, or why it is not accepted (``unsupported``)."""

    name: str
    data: bytes = b""
    unsupported: str | None = None


@dataclass
class PredictRequest:
    """What ``POST /api/predict`` asked for."""

    uploads: list[Upload]
    options: dict[str, str] = field(default_factory=dict)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or a 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestProblem(400, "the Content-Length header is not a number")
        if int(declared) > limit:
            raise RequestProblem(413, _too_large(limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestProblem(413, _too_large(limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> str:
    return f"the request is larger than {limit / (1024 * 1024):g} MB, the most this server accepts"


async def parse_predict_request(request: Request, body: bytes, max_files: int) -> PredictRequest:
    """Images from a multipart form (any file field) or a raw image body, plus options.

    Options (``top_k``, ``model``, ``image``) come from the query string or form fields.

    Raises:
        RequestProblem: 415 for a body that is neither multipart nor an image, 413 for too
            many files, 400 for a malformed form or no image at all.
    """
    options = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        uploads = await _parse_form(request, body, max_files, options)
    elif content_type.startswith(RAW_TYPES):
        uploads = [Upload(_clean_name(options.get("name") or "<body>"), body)]
    else:
        shown = content_type or "none"
        raise RequestProblem(415, f"unsupported content type {printable(shown)[:80]}: send multipart/form-data "
                                  "with image files, or an image body (image/png, image/jpeg, ...)")
    if not uploads:
        raise RequestProblem(400, "no image in the request: send image files as multipart/form-data, "
                                  "or the image itself as the body")
    return PredictRequest(uploads, options)


async def _parse_form(request: Request, body: bytes, max_files: int, options: dict[str, str]) -> list[Upload]:
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def replay():
        yield body

    parser = MultiPartParser(request.headers, replay(), max_files=max_files, max_fields=16,
                             max_part_size=64 * 1024)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        status = 413 if "Too many files" in exc.message else 400
        raise RequestProblem(status, f"the multipart form is not valid: {exc.message}") from None
    uploads = []
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                name = _clean_name(value.filename or key)
                kind = (value.content_type or "").split(";")[0].strip().lower()
                if kind and not kind.startswith(RAW_TYPES):
                    uploads.append(Upload(name, unsupported=f"unsupported type {printable(kind)[:80]}: "
                                                            "not an image"))
                else:
                    uploads.append(Upload(name, value.file.read()))
            elif key not in options:
                options[key] = value
    finally:
        await form.close()
    return uploads


def _clean_name(name: str) -> str:
    # Shown in JSON and on the page; control characters would garble a terminal log reader.
    text = "".join(ch if ch.isprintable() else "?" for ch in printable(name))
    return text[:MAX_NAME] or "<unnamed>"
