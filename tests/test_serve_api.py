"""`digitkit serve`'s API through Starlette's TestClient: every answer and every error code."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("python_multipart", reason="the serve extra (python-multipart) is not installed")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from predict_fixtures import digit_png, install_run, trained  # noqa: E402
from serve_fixtures import photo_jpeg  # noqa: E402

from digitkit.serve import create_app  # noqa: E402
from digitkit.serve.headers import CONTENT_SECURITY_POLICY  # noqa: E402
from digitkit.serve.limits import Limits  # noqa: E402

# Starlette 1.x prefers the httpx2 fork for its TestClient; httpx still works.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")

IMAGES = Path(__file__).parent / "fixtures" / "images"
STATIC = Path(__file__).parents[1] / "digitkit" / "serve" / "static"


@pytest.fixture
def run_folder(home, tmp_path_factory) -> Path:
    return install_run(trained("cnn", tmp_path_factory), home)


def client_for(model: str, settings=None, **limits):
    from starlette.testclient import TestClient

    return TestClient(create_app(model, Limits(**limits), settings), base_url="http://127.0.0.1",
                      raise_server_exceptions=False)


@pytest.fixture
def client(run_folder):
    with client_for("cnn") as client:
        yield client


@pytest.fixture
def seven(tmp_path) -> bytes:
    path = tmp_path / "seven.png"
    assert digit_png(path, index=0) == 7
    return path.read_bytes()


def assert_error(response, status: int, pattern: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) <= {"error", "failures"}
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    assert re.search(pattern, body["error"]), body["error"]


def test_multipart_answer_is_predict_json(client, cli, seven, tmp_path):
    response = client.post("/api/predict", files=[("file", ("seven.png", seven, "image/png"))])
    assert response.status_code == 200
    data = response.json()
    (tmp_path / "seven.png").write_bytes(seven)
    expected = json.loads(cli("predict", tmp_path / "seven.png", "--json").stdout)
    assert data["predictions"][0]["digit"] == 7
    # the same model, named by its file only: an answer never shows where the home is
    assert data["model"] == {**expected["model"], "path": "model.tflite"}
    assert {k: v for k, v in data["predictions"][0].items() if k != "input"} == \
        {k: v for k, v in expected["predictions"][0].items() if k != "input"}
    assert data["predictions"][0]["input"] == "seven.png"
    assert data["failures"] == [] and data["min_confidence"] is None


def test_raw_body_top_k_and_what_the_model_sees(client, seven):
    response = client.post("/api/predict?top_k=5&image=1", content=seven, headers={"content-type": "image/png"})
    answer = response.json()["predictions"][0]
    assert answer["input"] == "<body>"
    assert [d["digit"] for d in answer["top_k"]][0] == 7 and len(answer["top_k"]) == 5
    assert answer["image"].startswith("data:image/png;base64,")
    import base64
    import io

    from PIL import Image

    seen = Image.open(io.BytesIO(base64.b64decode(answer["image"].split(",", 1)[1])))
    assert seen.size == (28, 28) and seen.mode == "L"


def test_many_files_and_form_options(client, seven):
    black = (IMAGES / "all_black.png").read_bytes()
    files = [("file", ("a.png", seven, "image/png")), ("file", ("blank.png", black, "image/png")),
             ("file", ("notes.txt", b"hello", "text/plain"))]
    response = client.post("/api/predict", files=files, data={"top_k": "2"})
    data = response.json()
    assert response.status_code == 200
    assert [p["input"] for p in data["predictions"]] == ["a.png"]
    assert len(data["predictions"][0]["top_k"]) == 2
    assert [f["input"] for f in data["failures"]] == ["blank.png", "notes.txt"]
    assert "no ink" in data["failures"][0]["error"]
    assert "unsupported type text/plain" in data["failures"][1]["error"]


def test_unreadable_image_is_400(client):
    for name in ("truncated.png", "text.png", "zero_by_zero.png"):
        response = client.post("/api/predict", files=[("file", (name, (IMAGES / name).read_bytes(), "image/png"))])
        assert_error(response, 400, rf"^{re.escape(name)}: ")
    assert_error(client.post("/api/predict", content=b"", headers={"content-type": "image/png"}), 400, "empty")
    assert_error(client.post("/api/predict", files={"top_k": (None, "3")}), 400, "no image in the request")


def test_bad_options_are_400(client, seven):
    for query in ("top_k=0", "top_k=11", "top_k=x", "preprocess=maybe"):
        response = client.post(f"/api/predict?{query}", content=seven, headers={"content-type": "image/png"})
        assert_error(response, 400, "expected")


def test_over_the_size_cap_is_413_before_and_while_reading(run_folder, seven):
    with client_for("cnn", max_body_bytes=1000) as client:
        big = b"\0" * 5000
        # declared too large: refused from the header
        assert_error(client.post("/api/predict", content=big, headers={"content-type": "image/png"}),
                     413, "larger than")

        def chunks():  # no Content-Length: counted while streaming
            for _ in range(10):
                yield b"\0" * 500

        response = client.post("/api/predict", content=chunks(), headers={"content-type": "image/png"})
        assert_error(response, 413, "larger than")
        assert client.post("/api/predict", content=seven[:900], headers={"content-type": "image/png"}).status_code \
            == 400  # under the cap: read, then found truncated


def test_too_many_files_is_413(run_folder, seven):
    with client_for("cnn", max_files=2) as client:
        files = [("file", (f"{i}.png", seven, "image/png")) for i in range(3)]
        assert_error(client.post("/api/predict", files=files), 413, "Too many files")


def test_unsupported_type_is_415(client):
    assert_error(client.post("/api/predict", content=b"hello", headers={"content-type": "text/plain"}),
                 415, "unsupported content type text/plain")
    assert_error(client.post("/api/predict", json={"image": "x"}), 415, "application/json")
    response = client.post("/api/predict", files=[("file", ("notes.txt", b"hello", "text/plain"))])
    assert_error(response, 415, "notes.txt: unsupported type text/plain")


def test_unknown_model_is_404_and_paths_are_refused(client, seven, tmp_path, run_folder):
    headers = {"content-type": "image/png"}
    assert_error(client.post("/api/predict?model=nope", content=seven, headers=headers), 404, "unknown model 'nope'")
    # a model with no run of the user's answers with its shipped weights, and says which
    response = client.post("/api/predict?model=25-15-10", content=seven, headers=headers)
    assert response.status_code == 200 and response.json()["model"]["run"] is None
    assert response.json()["model"]["path"] == "25-15-10.tflite"
    # a client may not make the server open files, even a real model file
    for ref in (str(run_folder), str(run_folder / "model.keras"), "../runs", "x.tflite"):
        response = client.post("/api/predict", content=seven, headers=headers, params={"model": ref})
        assert_error(response, 404, "unknown model")
    # a run id from /api/models works
    run_id = run_folder.name
    response = client.post(f"/api/predict?model={run_id}", content=seven, headers=headers)
    assert response.status_code == 200 and response.json()["model"]["run"] == run_id


def test_busy_server_is_503(run_folder, seven):
    with client_for("cnn", max_pending=0) as client:
        response = client.post("/api/predict", content=seven, headers={"content-type": "image/png"})
        assert_error(response, 503, "busy")
        assert response.headers["retry-after"] == "1"


def test_slow_request_is_504(run_folder, seven, monkeypatch):
    from digitkit.serve import engine

    real = engine.read_digit
    monkeypatch.setattr(engine, "read_digit", lambda *a: (time.sleep(0.5), real(*a))[1])
    with client_for("cnn", timeout_s=0.1) as client:
        response = client.post("/api/predict", content=seven, headers={"content-type": "image/png"})
        assert_error(response, 504, "longer than 0.1 s")
        time.sleep(0.6)  # the abandoned job finishes and gives its ticket back
        assert client.get("/healthz").json()["pending"] == 0


def test_unexpected_error_is_500_without_a_trace(client, seven, monkeypatch):
    from digitkit.serve.engine import Engine

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail\nTraceback")

    monkeypatch.setattr(Engine, "predict", broken)
    response = client.post("/api/predict", content=seven, headers={"content-type": "image/png"})
    assert_error(response, 500, "^internal error")
    assert "secret" not in response.text


def test_not_found_and_wrong_method_are_json(client):
    assert_error(client.get("/nope"), 404, "not found")
    assert_error(client.get("/static/../app.py"), 404, "not found")
    assert_error(client.get("/api/predict"), 405, "method not allowed")


def test_models_healthz_openapi(client, run_folder):
    models = client.get("/api/models").json()
    assert models["default"]["run"] == run_folder.name and models["default"]["backend"] == "litert"
    assert [m["id"] for m in models["models"] if m["kind"] == "run"] == [run_folder.name]
    assert models["models"][0]["accuracy"] is None or 0 <= models["models"][0]["accuracy"] <= 1
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["pending"] == 0
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/predict", "/api/models", "/healthz"} <= set(spec["paths"])
    codes = set(spec["paths"]["/api/predict"]["post"]["responses"])
    assert {"200", "400", "404", "413", "415", "503"} <= codes


def test_page_and_assets_under_a_strict_csp(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    for name, kind in [("app.js", "text/javascript"), ("app.css", "text/css"), ("favicon.svg", "image/svg+xml")]:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
    assert client.get("/api/models").headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_page_has_no_inline_code_and_no_outside_resources():
    html = (STATIC / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # every script is a file
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"\son[a-z]+=", html) == []  # no inline event handlers
    for asset in ("index.html", "app.js", "app.css"):
        text = (STATIC / asset).read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text.replace("http://www.w3.org/2000/svg", "")), \
            asset
    assert "innerHTML" not in (STATIC / "app.js").read_text()


def test_unknown_default_model_fails_at_startup(home):
    from digitkit.errors import UnknownModelError

    with pytest.raises(UnknownModelError, match="unknown model 'nope'"):
        create_app("nope")


def test_serve_without_the_extra_says_how_to_install(cli, monkeypatch):
    import digitkit.serve

    monkeypatch.setattr(digitkit.serve, "REQUIRED", ("starlette", "no_such_module_for_serve"))
    result = cli("serve")
    assert result.exit_code == 6
    assert "pip install 'digitkit[serve]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_serve_cli_errors_are_one_line(cli, run_folder):
    import socket

    result = cli("serve", "--model", "nope", "--port", "0")
    assert result.exit_code == 2 and "unknown model" in result.output and "Traceback" not in result.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.exit_code == 6 and f"port {port} on 127.0.0.1 is already in use" in result.output


def test_help_and_litert_serving_never_import_tensorflow(run_folder, seven, tmp_path):
    import subprocess
    import sys

    (tmp_path / "seven.png").write_bytes(seven)
    probe = f"""
import sys
from typer.testing import CliRunner
from digitkit.cli.app import app
assert CliRunner().invoke(app, ["serve", "--help"]).exit_code == 0
assert "starlette" not in sys.modules
from starlette.testclient import TestClient
from digitkit.serve import create_app
client = TestClient(create_app({str(run_folder)!r}), base_url="http://localhost")
response = client.post("/api/predict", content=open({str(tmp_path / 'seven.png')!r}, "rb").read(),
                       headers={{"content-type": "image/png"}})
assert response.json()["model"]["backend"] == "litert", response.text
print("HEAVY=" + ",".join(m for m in ("tensorflow", "keras", "matplotlib") if m in sys.modules))
"""
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True, timeout=120)
    assert "HEAVY=\n" in proc.stdout, proc.stdout + proc.stderr[-2000:]


def test_explain_gives_the_picture_as_found_beside_the_digit(client, seven):
    import base64
    import io

    from PIL import Image

    files = [("file", ("photo.jpg", photo_jpeg(), "image/jpeg")), ("file", ("seven.png", seven, "image/png"))]
    data = client.post("/api/predict?explain=1&image=1", files=files).json()
    photo, small = data["predictions"]
    assert [p["caption"] for p in photo["panels"]] == ["picture", "paper", "ink", "crop"]
    assert [p["caption"] for p in small["panels"]] == ["picture"]  # a small picture has no paper to find
    for panel in photo["panels"] + small["panels"]:
        assert panel["image"].startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(panel["image"].split(",", 1)[1])))
        assert max(image.size) <= 96 and image.mode == "L"  # bounded, whatever the upload's size
    assert photo["best"] == 7
    plain = client.post("/api/predict", files=files[:1]).json()["predictions"][0]
    assert "panels" not in plain and {k: v for k, v in plain.items()} == \
        {k: v for k, v in photo.items() if k not in ("panels", "image")}
    assert client.post("/api/predict?explain=maybe", files=files[:1]).status_code == 400
