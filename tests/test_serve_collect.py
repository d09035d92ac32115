"""`serve --collect DIR`: "that's wrong, it is: [digit]" saves the picture into DIR/<digit>/."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from predict_fixtures import digit_png  # noqa: E402

from digitkit.errors import UsageError  # noqa: E402
from digitkit.serve import Settings, create_app  # noqa: E402

MODEL = "25-15-10@pretrained"
CHROMIUM = os.environ.get("DIGITKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _client(collect: Path | None):
    from starlette.testclient import TestClient

    settings = Settings(collect=str(collect) if collect else None)
    return TestClient(create_app(MODEL, settings=settings), base_url="http://127.0.0.1",
                      raise_server_exceptions=False)


def _rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "labels.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_correction_is_saved_into_its_digit_folder(home, tmp_path):
    picture = tmp_path / "seven.png"
    digit_png(picture, index=0)
    folder = tmp_path / "mine"
    with _client(folder) as client:
        assert client.get("/healthz").json()["collect"] is True
        answer = client.post("/api/collect?digit=1", content=picture.read_bytes())
        assert answer.status_code == 200, answer.text
        assert answer.json()["collected"] == 1 and answer.json()["counts"]["1"] == 1
        again = client.post("/api/collect?digit=7", content=picture.read_bytes())  # changed their mind
        assert again.json()["collected"] == 1 and again.json()["counts"]["7"] == 1
    rows = _rows(folder)
    assert [(r["label"], r["how"]) for r in rows] == [("7", "collected")]
    saved = folder / rows[0]["file"]
    assert saved.parent.name == "7" and saved.read_bytes() == picture.read_bytes()
    assert not list((folder / "1").iterdir())


@pytest.mark.parametrize("query, body, status, message", [
    ("digit=12", b"x", 400, "expected digit=0..9"),
    ("", b"x", 400, "expected digit=0..9"),
    ("digit=3", b"not a picture", 400, ""),
])
def test_bad_corrections_are_refused(home, tmp_path, query, body, status, message):
    with _client(tmp_path / "mine") as client:
        answer = client.post(f"/api/collect?{query}", content=body)
    assert answer.status_code == status and message in answer.json()["error"]
    assert not (tmp_path / "mine" / "3").exists()


def test_without_collect_there_is_nothing_to_post_to(home):
    with _client(None) as client:
        assert client.get("/healthz").json()["collect"] is False
        assert client.post("/api/collect?digit=3", content=b"x").status_code == 404


def test_an_unwritable_folder_is_refused_before_serving(home, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is not writable"):
        create_app(MODEL, settings=Settings(collect=str(tmp_path / "file" / "mine")))


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
def test_the_page_saves_a_drawing_as_the_digit_chosen(home, tmp_path):
    pytest.importorskip("playwright", reason="playwright is not installed")
    from playwright.sync_api import expect, sync_playwright

    from serve_fixtures import Server

    folder = tmp_path / "mine"
    server = Server(MODEL, home, "--collect", str(folder))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(server.url)
            expect(page.locator("#collect")).to_be_visible(timeout=20_000)
            box = page.locator("#pad").bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 40, steps=12)
            page.mouse.up()
            expect(page.locator("#status")).to_contain_text("sure", timeout=20_000)  # answered
            page.wait_for_load_state("networkidle")  # the drawing's last prediction is in: it cannot overwrite
            page.select_option("#truth", "1")
            page.click("#save")
            expect(page.locator("#status")).to_contain_text("Saved as a 1 (1 collected)", timeout=20_000)
            browser.close()
    finally:
        code, err = server.stop()
    assert code == 0, err
    rows = _rows(folder)
    assert [r["label"] for r in rows] == ["1"] and (folder / rows[0]["file"]).stat().st_size > 0


def test_collecting_is_one_process(home, tmp_path):
    """Several workers would race on labels.csv: --collect with --workers 2 is refused in one line."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "digitkit", "serve", "--model", MODEL, "--collect",
                           str(tmp_path / "mine"), "--workers", "2", "--port", "0"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "DIGITKIT_HOME": str(home)})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: --collect writes one folder")
