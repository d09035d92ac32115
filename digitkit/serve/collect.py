"""``serve --collect DIR``: "that's wrong, it is: [digit]" saves the picture into ``DIR/<digit>/``.

The page posts the drawing (or the file) it last asked about with the right digit; the
picture is checked the way ``predict`` reads pictures, then saved through the same store
``digitkit label`` writes (:class:`digitkit.labelling.LabelStore`), so the folder is a
dataset for ``digitkit fit MODEL --init-from REF --dataset DIR`` and ``labels.csv`` lists
every picture collected.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import Response


class Collector:
    """The store behind ``POST /api/collect``; one writer at a time."""

    def __init__(self, folder: str) -> None:
        from digitkit.labelling.store import LabelStore

        self.store = LabelStore(folder)  # refuses a folder it cannot write, before serving
        self.lock = threading.Lock()

    def save(self, data: bytes, name: str, digit: int) -> dict[str, Any]:
        from digitkit.intake import read_digit

        read_digit(data)  # an InputError (400) for anything that is not a readable picture
        with self.lock:
            row = self.store.put_bytes(data, name, digit)
            counts = self.store.counts()
        return {"saved": row.file, "digit": digit, "collected": sum(counts),
                "counts": {str(d): n for d, n in enumerate(counts)}}


async def collect(request: Request) -> Response:
    from digitkit.errors import DigitkitError
    from digitkit.serve.app import error_response, json_response, status_of
    from digitkit.serve.uploads import RequestProblem, read_body

    service = request.app.state.service
    if service.collector is None:
        return error_response(404, "not collecting: start the server with --collect DIR")
    text = request.query_params.get("digit", "")
    if len(text) != 1 or not text.isdigit():
        return error_response(400, f"expected digit=0..9. Received: digit={text[:20]!r}")
    if not service.gate.enter():
        return error_response(503, "the server is busy; try again in a moment", {"Retry-After": "1"})
    try:
        body = await read_body(request, service.limits.max_body_bytes)
        future = service.pool.submit(service.collector.save, body, "drawing", int(text))
        return json_response(await asyncio.wrap_future(future))
    except RequestProblem as exc:
        return error_response(exc.status, exc.message)
    except DigitkitError as exc:
        return error_response(status_of(exc), exc.message)
    finally:
        service.gate.leave()
