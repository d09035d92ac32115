"""`POST /api/read`: numbers in uploads, the same JSON as `digitkit read --json`."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("python_multipart", reason="the serve extra (python-multipart) is not installed")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from reading_fixtures import MODEL, compose_text  # noqa: E402

from digitkit.serve import create_app  # noqa: E402
from digitkit.serve.limits import Limits  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")


@pytest.fixture
def client(home):
    from starlette.testclient import TestClient

    with TestClient(create_app(MODEL, Limits()), base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        yield client


def test_read_answers_as_read_json(client, cli, tmp_path):
    path = compose_text(tmp_path / "n.png", "4071")
    response = client.post("/api/read", files=[("file", ("n.png", path.read_bytes(), "image/png"))])
    assert response.status_code == 200, response.text
    served = response.json()
    local = json.loads(cli("read", path, "-m", MODEL, "--json").stdout)
    assert served["readings"][0]["text"] == "4071"
    for key in ("text", "confidence", "digits", "size"):
        assert served["readings"][0][key] == local["readings"][0][key]
    assert set(served) == {"model", "readings", "failures"} and served["model"]["name"] == "cnn-best"


def test_read_options_and_raw_body(client, tmp_path):
    path = compose_text(tmp_path / "n.png", "12.50")
    response = client.post("/api/read?keep_marks=true&digits=4&top_k=2", content=path.read_bytes(),
                           headers={"content-type": "image/png"})
    assert response.status_code == 200, response.text
    reading = response.json()["readings"][0]
    assert reading["text"] == "12.50" and len(reading["digits"][0]["top_k"]) == 2


def test_read_refusals(client, tmp_path):
    response = client.post("/api/read", content=b"not an image", headers={"content-type": "image/png"})
    assert response.status_code == 400 and "not an image" in response.json()["error"]
    response = client.post("/api/read?digits=0", content=b"x", headers={"content-type": "image/png"})
    assert response.status_code == 400 and "digits" in response.json()["error"]


def test_openapi_describes_read(client):
    spec = client.get("/openapi.json").json()
    assert "/api/read" in spec["paths"] and "ReadResult" in spec["components"]["schemas"]
