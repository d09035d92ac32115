"""`digitkit serve` closed by default: Host names, `model=` names only, no absolute paths,
and a 500 that carries a request id instead of a traceback."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("python_multipart", reason="the serve extra (python-multipart) is not installed")
pytest.importorskip("prometheus_client", reason="the serve extra (prometheus-client) is not installed")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from predict_fixtures import digit_png, install_run, trained  # noqa: E402

from digitkit.serve import Settings, create_app  # noqa: E402
from digitkit.serve.hosts import allowed_hosts, host_of  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")
PNG = {"content-type": "image/png"}


@pytest.fixture
def run_folder(home, tmp_path_factory) -> Path:
    return install_run(trained("cnn", tmp_path_factory), home)


@pytest.fixture
def app(run_folder):
    return create_app("cnn")


def client_of(app, base_url: str = "http://127.0.0.1:8000"):
    from starlette.testclient import TestClient

    return TestClient(app, base_url=base_url, raise_server_exceptions=False)


@pytest.fixture
def seven(tmp_path) -> bytes:
    path = tmp_path / "seven.png"
    assert digit_png(path, index=0) == 7
    return path.read_bytes()


def one_line_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"] and "\n" not in body["error"]
    return body["error"]


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000",
                                      "http://LOCALHOST."])
def test_local_names_are_served(app, base_url):
    with client_of(app, base_url) as client:
        assert client.get("/healthz").status_code == 200


def test_other_host_names_get_a_one_line_421_everywhere(app, seven):
    with client_of(app, "http://evil.example") as client:
        for response in (client.get("/healthz"), client.get("/api/models"), client.get("/metrics"),
                         client.get("/v2/health/ready"), client.post("/api/predict", content=seven, headers=PNG)):
            assert "does not answer for that host name" in one_line_error(response, 421)
            assert "runs" not in response.text and "path" not in response.text
    with client_of(app) as client:  # a rebinding page may also put its name with a port, or junk
        for host in ("evil.example:8000", "127.0.0.1.evil.example", "127.0.0.1@evil.example"):
            status = client.get("/healthz", headers={"host": host}).status_code
            assert status in (400, 421), host
        assert one_line_error(client.get("/healthz", headers={"host": "a b"}), 400)


def test_allow_host_serves_a_proxy_name(run_folder):
    app = create_app("cnn", settings=Settings(allow_hosts=("digits.example.org",)))
    with client_of(app, "https://digits.example.org") as client:
        assert client.get("/healthz").status_code == 200
    with client_of(app, "https://other.example.org") as client:
        one_line_error(client.get("/healthz"), 421)
    with client_of(create_app("cnn", settings=Settings(allow_hosts=("*",))), "http://anything") as client:
        assert client.get("/healthz").status_code == 200


def test_allowed_hosts_follow_the_address():
    assert allowed_hosts("127.0.0.1") == {"localhost", "127.0.0.1", "::1"}
    assert allowed_hosts("::1", ["Proxy.Example."]) == {"localhost", "127.0.0.1", "::1", "proxy.example"}
    import socket

    assert socket.gethostname().lower() in allowed_hosts("0.0.0.0")
    assert socket.gethostname().lower() not in allowed_hosts("127.0.0.1")
    assert host_of("[::1]:80") == "::1" and host_of("LocalHost:8000") == "localhost"
    assert host_of("localhost:x") is None and host_of("") is None and host_of("a/b") is None


def test_model_paths_and_homes_are_all_the_same_404(app, run_folder, seven, tmp_path, monkeypatch):
    # A run folder copied next to where the server runs, under a plain name and under its id.
    monkeypatch.chdir(tmp_path)
    shutil.copytree(run_folder, tmp_path / "copied")
    (tmp_path / "cnn@pretrained").mkdir()
    references = ["copied", "./copied", str(tmp_path / "copied"), str(run_folder), str(run_folder / "model.keras"),
                  "~", "~/", "~root", "~nosuchuser", "~nosuchuser/x", "/etc", "/etc/passwd", "/nonexistent",
                  "../runs", "x.tflite", run_folder.name[:12], "%2e%2e", "\0", "a" * 300]
    messages = set()
    with client_of(app) as client:
        for ref in references:
            response = client.post("/api/predict", content=seven, headers=PNG, params={"model": ref})
            message = one_line_error(response, 404)
            assert str(tmp_path) not in message and "Traceback" not in response.text
            messages.add(message.replace(f" {ref!r}", ""))
        assert len(messages) == 1, messages  # nothing tells whether the path, or the user, exists
        # what /api/models lists does work: the run id, the model name, NAME@pretrained
        for ref, run in [(run_folder.name, run_folder.name), ("cnn", run_folder.name), ("cnn@pretrained", None)]:
            response = client.post("/api/predict", content=seven, headers=PNG, params={"model": ref})
            assert response.status_code == 200, (ref, response.text)
            assert response.json()["model"]["run"] == run


def test_no_answer_shows_an_absolute_path(app, run_folder, seven, home):
    with client_of(app) as client:
        answers = [client.get("/healthz"), client.get("/api/models"), client.get("/v2/models/cnn"),
                   client.post("/api/predict", content=seven, headers=PNG),
                   client.post("/api/predict?model=25-15-10", content=seven, headers=PNG)]
    for response in answers:
        assert response.status_code == 200
        assert str(home) not in response.text and str(Path.home()) not in response.text
        assert not re.search(r'"/[^"]*/', response.text), response.text
    assert answers[0].json()["model"]["path"] == "model.tflite"


def test_debug_shows_the_path(run_folder):
    with client_of(create_app("cnn", settings=Settings(debug=True))) as client:
        assert client.get("/healthz").json()["model"]["path"] == str(run_folder / "model.tflite")


def test_a_refused_model_does_not_tell_where_it_is(run_folder, seven, home):
    broken = home / "runs" / (run_folder.name[:-4] + "beef")
    shutil.copytree(run_folder, broken)
    for name in ("model.keras", "model.tflite"):
        (broken / name).write_bytes(b"not a model")
    with client_of(create_app(str(run_folder))) as client:
        response = client.post(f"/api/predict?model={broken.name}", content=seven, headers=PNG)
    assert response.status_code in (404, 422), response.text
    assert str(home) not in response.text


def test_an_unexpected_error_is_a_500_with_a_request_id(app, seven, monkeypatch, caplog):
    from digitkit.serve.engine import Engine

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail from /home/someone/file\nTraceback")

    monkeypatch.setattr(Engine, "predict", broken)
    with caplog.at_level(logging.ERROR, logger="digitkit.serve"), client_of(app) as client:
        response = client.post("/api/predict", content=seven, headers=PNG)
        assert client.get("/healthz").status_code == 200  # the server goes on
    message = one_line_error(response, 500)
    request_id = response.headers["x-request-id"]
    assert message == f"internal error (request id {request_id}); the server's log has the details"
    assert "secret" not in response.text
    logged = [r for r in caplog.records if r.name == "digitkit.serve"]
    assert len(logged) == 1
    line = logged[0].getMessage()
    assert request_id in line and re.search(r"POST /api/predict: RuntimeError at [\w.]+:\d+", line), line
    assert "\n" not in line and "secret" not in line and "/home/" not in line
    assert logged[0].exc_info is None  # the traceback only with --debug


def test_every_answer_has_a_request_id(app):
    with client_of(app) as client:
        ids = {client.get(path).headers["x-request-id"] for path in ("/healthz", "/nope", "/api/models")}
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
