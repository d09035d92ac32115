"""A real `digitkit serve` process on a free port, for the SIGTERM and browser tests."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest


class Server:
    """``digitkit serve --port 0`` in a subprocess; ``url`` is what it printed."""

    def __init__(self, model: str | Path, home: Path, *args: str, timeout: float = 120.0) -> None:
        env = {**os.environ, "DIGITKIT_HOME": str(home)}
        if "--workers" not in args:
            args = ("--workers", "1", *args)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "digitkit", "serve", "--model", str(model), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.stderr = ""
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            self.url = lines.get(timeout=timeout).strip()
        except queue.Empty:
            self.stop()
            raise RuntimeError("digitkit serve printed no URL in time") from None
        if not self.url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"digitkit serve did not start: {self.stop()[1][-2000:]}")

    def stop(self, timeout: float = 60.0) -> tuple[int, str]:
        """SIGTERM, then the exit code and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.stderr = err
        return self.proc.returncode, err


class ThreadServer:
    """The app served by uvicorn in a thread of this process, on 127.0.0.1 (any free port),
    with the same bounded connections as ``digitkit serve``; for limits a test sets itself."""

    def __init__(self, app, limits) -> None:
        from digitkit.serve.server import bind, make_server, url_of

        self.sock = bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.url = url_of(self.sock)
        self.server = make_server(app, limits)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        import time

        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()

    def __enter__(self) -> "ThreadServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def photo_jpeg(index: int = 0) -> bytes:
    """A 1600x1200 phone-like photo: a test digit, 12 % of the height, dark on beige paper
    with a darker band along the left border."""
    import io

    import numpy as np
    from PIL import Image

    from digitkit.data import load_digits

    digit = load_digits("sample", split="test").images[index].astype(np.float32) / 255.0
    big = np.asarray(Image.fromarray(digit, mode="F").resize((200, 200), Image.Resampling.BILINEAR))
    picture = np.full((1200, 1600), 0.85, np.float32)
    picture[450:650, 700:900] -= 0.7 * np.clip(big, 0, 1)
    picture[:, :100] = 0.2
    picture += np.random.default_rng(index).normal(0, 0.015, picture.shape).astype(np.float32)
    rgb = np.repeat(np.clip(picture * 255, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@contextlib.contextmanager
def opened(browser, server, width: int = 1100, height: int = 800, expected: tuple[str, ...] = ()):
    """The page in a fresh context; nothing may be logged as an error or asked of another origin
    (but console lines containing one of ``expected``: Chromium logs every 4xx answer)."""
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and not any(e in message.text for e in expected)
            and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    def check_origin(request) -> None:
        if not request.url.startswith((server.url, "data:", "blob:")):
            problems.append(f"outside request: {request.url}")

    page.on("request", check_origin)
    page.goto(server.url)
    page.wait_for_selector("#model option", state="attached")
    try:
        yield page
    finally:
        context.close()
    assert problems == [], problems


CHROMIUM = os.environ.get("DIGITKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# What every serve browser test module is: browser, slow (a Chromium start), skipped without one.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (see .ci/system-deps)"),
]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the module's tests (Playwright, the system's Chromium)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def ink_runs(row) -> list[tuple[int, int]]:
    """The (first, last) columns of each run of ink (> 127) in one row of a 28x28 digit: the
    strokes the browser tests trace with the pointer."""
    runs, start = [], None
    for c, value in enumerate([*row, 0]):
        if value > 127 and start is None:
            start = c
        elif value <= 127 and start is not None:
            runs.append((start, c - 1))
            start = None
    return runs
