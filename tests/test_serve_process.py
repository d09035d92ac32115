"""A real `digitkit serve` process: it prints its URL, answers, and drains on SIGTERM."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.request

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
pytest.importorskip("python_multipart", reason="the serve extra (python-multipart) is not installed")

from predict_fixtures import install_run, trained  # noqa: E402
from serve_fixtures import Server  # noqa: E402


def photo_png(side: int = 1500) -> bytes:
    """A large photo-like digit: slow enough to preprocess that requests are still in flight."""
    import numpy as np
    from PIL import Image, ImageDraw

    image = Image.new("L", (side, side), 235)
    ImageDraw.Draw(image).line([(side * .25, side * .2), (side * .75, side * .2), (side * .4, side * .85)],
                               fill=20, width=side // 14)
    noise = np.random.default_rng(0).integers(-12, 12, (side, side))
    image = Image.fromarray(np.clip(np.asarray(image, int) + noise, 0, 255).astype("uint8"))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url + "api/predict", data=body, headers={"Content-Type": "image/png"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def get(url: str, path: str) -> dict:
    with urllib.request.urlopen(url + path, timeout=30) as response:
        return json.load(response)


@pytest.mark.slow
def test_sigterm_answers_requests_in_flight_then_exits_0(home, tmp_path_factory):
    install_run(trained("cnn", tmp_path_factory), home)
    server = Server("cnn", home)
    body = photo_png()
    answers: list[tuple[int, dict]] = []
    clients = [threading.Thread(target=lambda: answers.append(post(server.url, body))) for _ in range(6)]
    try:
        assert get(server.url, "healthz")["status"] == "ok"
        for client in clients:
            client.start()
        deadline = time.monotonic() + 30
        pending = 0
        while pending < len(clients) and time.monotonic() < deadline:  # all admitted, most still working
            pending = get(server.url, "healthz")["pending"]
            time.sleep(0.005)
        assert pending == len(clients), "the requests finished before SIGTERM could be sent"
    finally:
        code, err = server.stop()
    for client in clients:
        client.join(timeout=60)
    assert code == 0, err
    assert len(answers) == 6
    assert all(status == 200 and data["predictions"][0]["digit"] is not None for status, data in answers), answers
    assert "Traceback" not in err
