"""The API against its own OpenAPI document, checked by schemathesis (a fuzzer nobody here
wrote), through its command line against a live server on 127.0.0.1: all of its checks, no
500s, every answer matches the schema, every error is the documented JSON.

Every check runs; tests/schemathesis.toml lists which refusals count as correct for a
schema-valid request (an image's bytes cannot be described by a schema).

Bounded: ``SCHEMATHESIS_EXAMPLES`` examples per operation (default 25), a fixed seed so a
failure replays, a timeout per request and for the whole run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("prometheus_client", reason="the serve extra (prometheus-client) is not installed")
pytest.importorskip("schemathesis", reason="the serve-test extra (schemathesis) is not installed")

from predict_fixtures import install_run, trained  # noqa: E402
from serve_fixtures import ThreadServer  # noqa: E402

from digitkit.serve import create_app  # noqa: E402
from digitkit.serve.limits import Limits  # noqa: E402

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


def schemathesis_command() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    if found is None:
        pytest.skip("the schemathesis command is not installed")
    return [found]


def test_api_conforms_to_its_openapi_document(home, tmp_path_factory, tmp_path):
    install_run(trained("cnn", tmp_path_factory), home)
    limits = Limits()
    with ThreadServer(create_app("cnn", limits), limits) as server:
        proc = subprocess.run(
            [*schemathesis_command(), "--config-file", str(CONFIG), "run", server.url + "openapi.json", "--checks", "all",
             "--max-examples", str(EXAMPLES), "--seed", "1", "--request-timeout", "20",
             "--phases", "examples,coverage,fuzzing,stateful", "--no-color",
             "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"})
    assert proc.returncode == 0, proc.stdout[-12000:] + proc.stderr[-3000:]
