"""`GET /metrics`: Prometheus text, parsed with prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("prometheus_client", reason="the serve extra (prometheus-client) is not installed")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from predict_fixtures import digit_png, install_run, trained  # noqa: E402

from digitkit.serve import create_app  # noqa: E402
from digitkit.serve.limits import Limits  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")


@pytest.fixture
def run_folder(home, tmp_path_factory) -> Path:
    return install_run(trained("cnn", tmp_path_factory), home)


def samples(client) -> dict[tuple[str, tuple], float]:
    from prometheus_client.parser import text_string_to_metric_families

    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def test_metrics_count_requests_predictions_and_refusals(run_folder, tmp_path):
    from starlette.testclient import TestClient

    seven = tmp_path / "seven.png"
    digit_png(seven)
    app = create_app("cnn", Limits(max_pending=1))
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        for _ in range(3):
            assert client.post("/api/predict", content=seven.read_bytes(),
                               headers={"content-type": "image/png"}).status_code == 200
        client.get("/healthz")
        client.get("/nope")
        client.get("/healthz", headers={"host": "evil.example"})
        app.state.service.gate.enter()  # the gate is full: the next prediction is refused
        assert client.post("/api/predict", content=b"x", headers={"content-type": "image/png"}).status_code == 503
        app.state.service.gate.leave()
        found = samples(client)
    run = run_folder.name
    ok = (("method", "POST"), ("route", "/api/predict"), ("status", "200"))
    assert found[("digitkit_http_requests_total", ok)] == 3
    assert found[("digitkit_http_request_duration_seconds_count", ok)] == 3
    assert found[("digitkit_http_request_duration_seconds_bucket", (("le", "+Inf"), *ok))] == 3
    assert found[("digitkit_http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))] == 1
    assert found[("digitkit_predictions_total", (("model", run),))] == 3
    assert found[("digitkit_requests_rejected_total", (("reason", "gate"),))] == 1
    assert found[("digitkit_requests_rejected_total", (("reason", "host"),))] == 1
    assert 0 < found[("digitkit_model_load_seconds", (("model", run),))] < 60
    assert found[("digitkit_http_requests_in_flight", ())] == 1  # the scrape itself
    assert not any("/nope" in str(key) or "evil" in str(key) for key in found)  # no client data in labels
