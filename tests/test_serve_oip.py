"""The Open Inference Protocol (KServe v2): through the official `tritonclient` as a real
third-party client, and its JSON and error answers through Starlette's TestClient."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("prometheus_client", reason="the serve extra (prometheus-client) is not installed")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from predict_fixtures import digit_png, install_run, trained  # noqa: E402

from digitkit.serve import create_app  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")


@pytest.fixture
def run_folder(home, tmp_path_factory) -> Path:
    return install_run(trained("cnn", tmp_path_factory), home)


@pytest.fixture
def app(run_folder):
    return create_app("cnn")


@pytest.fixture
def seven(tmp_path) -> bytes:
    path = tmp_path / "seven.png"
    assert digit_png(path, index=0) == 7
    return path.read_bytes()


def mnist_digits(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out digits as the model's input (N, 28, 28, 1) float32 in [0, 1], and labels."""
    from digitkit.data import load_digits

    digits = load_digits("sample", split="test")
    return (digits.images[:count].astype(np.float32) / 255.0)[..., None], digits.labels[:count]


def test_tritonclient_speaks_to_the_server(app, seven):
    httpclient = pytest.importorskip("tritonclient.http", reason="tritonclient[http] is not installed")
    from serve_fixtures import ThreadServer

    from digitkit.serve.limits import Limits

    x, labels = mnist_digits(8)
    with ThreadServer(app, Limits()) as server:
        client = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}", connection_timeout=10,
                                                  network_timeout=30)
        try:
            assert client.is_server_live() and client.is_server_ready()
            assert client.is_model_ready("cnn")
            assert not client.is_model_ready("/etc/passwd")
            metadata = client.get_model_metadata("cnn")
            assert metadata["inputs"][0] == {"name": "input", "datatype": "FP32", "shape": [-1, 28, 28, 1]}
            assert metadata["outputs"][0]["name"] == "probabilities"
            for binary in (True, False):  # tritonclient's default binary tensors, and plain JSON
                tensor = httpclient.InferInput("input", list(x.shape), "FP32")
                tensor.set_data_from_numpy(x, binary_data=binary)
                outputs = [httpclient.InferRequestedOutput("probabilities", binary_data=binary)]
                result = client.infer("cnn", [tensor], outputs=outputs if not binary else None)
                probabilities = result.as_numpy("probabilities")
                assert probabilities.shape == (8, 10) and probabilities.dtype == np.float32
                np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-4)
                assert (probabilities.argmax(axis=1) == labels).mean() >= 0.75
            images = httpclient.InferInput("image", [2], "BYTES")
            images.set_data_from_numpy(np.array([seven, seven], dtype=np.object_))
            result = client.infer("cnn", [images])
            assert list(result.as_numpy("probabilities").argmax(axis=1)) == [7, 7]
            from tritonclient.utils import InferenceServerException

            with pytest.raises(InferenceServerException, match="unknown model"):
                client.infer("~nosuchuser", [tensor])
        finally:
            client.close()


def client_of(app):
    from starlette.testclient import TestClient

    return TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)


def test_json_infer_matches_api_predict(app, seven):
    x, _ = mnist_digits(3)
    body = {"id": "req-1", "inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                                       "data": x.ravel().tolist()}]}
    with client_of(app) as client:
        answer = client.post("/v2/models/cnn/infer", json=body).json()
        assert answer["model_name"] == "cnn" and answer["id"] == "req-1"
        output = answer["outputs"][0]
        assert output["name"] == "probabilities" and output["shape"] == [3, 10] and len(output["data"]) == 30
        # an image file through BYTES (base64 in JSON) answers what /api/predict answers
        image = {"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES",
                             "data": [base64.b64encode(seven).decode()]}]}
        via_oip = client.post("/v2/models/cnn/versions/1/infer", json=image).json()["outputs"][0]["data"]
        via_api = client.post("/api/predict", content=seven, headers={"content-type": "image/png"}).json()
        np.testing.assert_allclose(via_oip, via_api["predictions"][0]["probabilities"], atol=1e-5)


@pytest.mark.parametrize("body, status, pattern", [
    (b"not json", 400, "not valid JSON"),
    ({"inputs": []}, 400, "exactly one input"),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28, 1], "datatype": "FP32", "data": [0.5] * 10}]},
     400, "784 numbers"),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32", "data": [0.5] * 784}]},
     400, r"shape \[1, 28, 28, 1\]"),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28, 1], "datatype": "FP32", "data": [7.0] * 784}]},
     400, r"\[0, 1\]"),
    ({"inputs": [{"name": "input", "shape": [1, 2], "datatype": "INT8", "data": [1, 2]}]}, 400, "datatype"),
    ({"inputs": [{"name": "input", "shape": [1000, 1], "datatype": "FP32", "data": [0.5] * 1000}]},
     413, "1 to 64 inputs"),
    ({"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": ["bm90IGFuIGltYWdl"]}]},
     400, "^image 0: "),
])
def test_bad_infer_requests_are_one_line_errors(app, body, status, pattern):
    import re

    with client_of(app) as client:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = client.post("/v2/models/cnn/infer", content=content, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert list(response.json()) == ["error"] and re.search(pattern, response.json()["error"])


def test_unknown_models_and_versions_are_404(app):
    with client_of(app) as client:
        for path in ("/v2/models/nope", "/v2/models/nope/ready", "/v2/models/cnn/versions/2",
                     "/v2/models/~root/ready"):
            response = client.get(path)
            assert response.status_code == 404 and list(response.json()) == ["error"], path
        assert client.get("/v2/health/live").json() == {"live": True}
        assert client.get("/v2").json()["name"] == "digitkit"
