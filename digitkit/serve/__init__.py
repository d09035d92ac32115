"""`digitkit serve`: a page to draw or drop digits, and a JSON API, on Starlette and uvicorn.

Needs the ``serve`` extra (``pip install 'digitkit[serve]'``). :func:`create_app` builds the
ASGI app for any ASGI server; :func:`serve` runs it with uvicorn. Importing this package
imports neither Starlette nor TensorFlow.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

from digitkit.errors import UnavailableError

REQUIRED = ("starlette", "uvicorn", "python_multipart", "httptools", "prometheus_client")


def check_installed() -> None:
    """Raise :class:`UnavailableError` (exit 6) when the ``serve`` extra is missing."""
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        # One line under 80 columns (the three module names made it 120).
        what = f"incomplete (no {missing[0]})" if len(missing) == 1 else "not installed"
        raise UnavailableError(f"the serve extra is {what}", hint="pip install 'digitkit[serve]'")


@dataclass(frozen=True)
class Settings:
    """How a server behaves beyond its limits.

    Attributes:
        host: the address the server listens on (decides which Host names are served).
        allow_hosts: more Host names to serve (``--allow-host``, e.g. behind a proxy); ``*`` any.
        debug: absolute paths in answers and tracebacks in the log.
        access_log: one JSON line per request on the ``digitkit.serve.access`` logger.
        metrics: count requests for ``GET /metrics``.
        collect: a folder where the page's corrections are saved (``serve --collect``), or ``None``.
    """

    host: str = "127.0.0.1"
    allow_hosts: tuple[str, ...] = field(default=())
    debug: bool = False
    access_log: bool = False
    metrics: bool = True
    collect: str | None = None


def create_app(model: str = "cnn", limits=None, settings: Settings | None = None):
    """The ASGI app with ``model`` loaded (see :func:`digitkit.serve.app.create_app`)."""
    check_installed()
    from digitkit.serve.app import create_app as create

    return create(model, limits, settings)


def serve(model: str = "cnn", host: str = "127.0.0.1", port: int = 8000, limits=None, on_ready=None, *,
          settings: Settings | None = None, workers: int = 1, log_format: str = "text") -> None:
    """Serve ``model`` until SIGTERM or Ctrl-C (see :func:`digitkit.serve.server.run`)."""
    check_installed()
    from digitkit.serve.server import run

    run(model, host, port, limits, on_ready, settings=settings, workers=workers, log_format=log_format)
