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


def worker_pids(server) -> set[int]:
    """The processes answering: each worker's pid, from the metrics of its own requests."""
    import subprocess

    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.proc.pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


@pytest.mark.slow
def test_workers_share_the_port_and_drain_on_sigterm(home, tmp_path_factory):
    from prometheus_client.parser import text_string_to_metric_families

    install_run(trained("cnn", tmp_path_factory), home)
    server = Server("cnn", home, "--workers", "2", "--log-format", "json")
    body = photo_png()
    answers: list[tuple[int, dict]] = []
    clients = [threading.Thread(target=lambda: answers.append(post(server.url, body))) for _ in range(6)]
    try:
        children = worker_pids(server)
        assert len(children) >= 2  # two workers (and multiprocessing's resource tracker, maybe)
        for _ in range(20):
            assert get(server.url, "healthz")["status"] == "ok"
        for client in clients:
            client.start()
        deadline = time.monotonic() + 30
        pending = 0
        while pending == 0 and time.monotonic() < deadline:
            pending = get(server.url, "healthz")["pending"]
            time.sleep(0.005)
        assert pending > 0, "the requests finished before SIGTERM could be sent"
        with urllib.request.urlopen(server.url + "metrics", timeout=30) as response:
            families = {f.name: f for f in text_string_to_metric_families(response.read().decode())}
    finally:
        code, err = server.stop()
    for client in clients:
        client.join(timeout=60)
    assert code == 0, err
    assert len(answers) == 6 and all(status == 200 for status, _ in answers), answers
    # /metrics sums both workers: all the health checks are counted, whichever worker answered
    healthz = [s for s in families["digitkit_http_requests"].samples
               if s.name == "digitkit_http_requests_total" and s.labels["route"] == "/healthz"]
    assert sum(s.value for s in healthz) >= 20
    assert {"digitkit_http_request_duration_seconds", "digitkit_http_requests_in_flight",
            "digitkit_requests_rejected", "digitkit_model_load_seconds"} <= set(families)
    # one JSON access line per request, from the workers, with no client data
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert sum(line["route"] == "/healthz" for line in lines) >= 20
    assert sum(line["route"] == "/api/predict" and line["status"] == 200 for line in lines) == 6
    assert set(lines[0]) == {"time", "request_id", "method", "route", "status", "duration_ms", "bytes_in", "bytes"}
    assert "Traceback" not in err
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [_cmdline(p) for p in children if _alive(p)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return "?"


@pytest.mark.slow
def test_a_worker_that_dies_is_replaced(home, tmp_path_factory):
    import os
    import signal

    install_run(trained("cnn", tmp_path_factory), home)
    server = Server("cnn", home, "--workers", "2")
    try:
        before = {p for p in worker_pids(server) if "resource_tracker" not in _cmdline(p)}
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        after = before
        while time.monotonic() < deadline:
            after = {p for p in worker_pids(server) if "resource_tracker" not in _cmdline(p) and _alive(p)}
            if victim not in after and len(after) == len(before):
                break
            time.sleep(0.2)
        assert victim not in after and len(after) == len(before), (before, after)
        for _ in range(10):
            assert get(server.url, "healthz")["status"] == "ok"
    finally:
        code, err = server.stop()
    assert code == 0, err


def test_a_worker_startup_error_is_one_line(cli, home):
    result = cli("serve", "--model", "nope", "--port", "0", "--workers", "2")
    assert result.exit_code == 2, result.output
    assert "unknown model 'nope'" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux only")
def test_workers_listen_on_their_own_sockets_and_share_a_burst_of_connections():
    """A shared listening socket gave a burst of keep-alive connections to whichever worker
    woke first (all 16, block after block); a socket per worker lets the kernel spread them,
    and the port's reservation, which does not listen, is handed none."""
    import socket

    from digitkit.serve.server import bind, worker_listener

    reserved = bind("127.0.0.1", 0, reserve=True)
    listeners = [worker_listener(reserved) for _ in range(2)]
    clients, accepted = [], [0, 0]
    try:
        for listener in listeners:
            listener.setblocking(False)
        for _ in range(200):
            clients.append(socket.create_connection(reserved.getsockname(), timeout=5))
        for i, listener in enumerate(listeners):
            while True:
                try:
                    listener.accept()[0].close()
                except BlockingIOError:
                    break
                accepted[i] += 1
    finally:
        for s in [*clients, *listeners, reserved]:
            s.close()
    assert sum(accepted) == 200
    assert min(accepted) >= 50


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux only")
def test_a_port_held_by_another_servers_workers_is_busy():
    """Workers' SO_REUSEPORT sockets must not let a second server join their port."""
    from digitkit.errors import UnavailableError
    from digitkit.serve.server import bind, worker_listener

    reserved = bind("127.0.0.1", 0, reserve=True)
    listener = worker_listener(reserved)
    try:
        with pytest.raises(UnavailableError, match="already in use"):
            bind("127.0.0.1", reserved.getsockname()[1], reserve=True)
    finally:
        listener.close()
        reserved.close()
