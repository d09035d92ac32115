"""The HTML report in a real browser: headless Chromium with the network off.

Checks that the page loads, every image decodes, the console stays clean, and leaves a
screenshot for a person to look at (path printed; set DIGITKIT_REPORT_SCREENSHOT to choose it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from digitkit.report import build_report
from tests.evalreport_fixtures import (  # noqa: F401
    no_validation_run, no_validation_run_template, tiny_run, tiny_run_template,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a browser start and a trained run: seconds each
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (run .ci/system-deps)"),
]

# Run in a copy of the report only: the real report has no scripts and its CSP forbids them.
PROBE = """<script>
window.addEventListener("load", () => {
  // A figure is clipped when its box leaves the viewport's width or an ancestor that hides overflow.
  const clipped = img => {
    const box = img.getBoundingClientRect();
    if (box.left < -0.5 || box.right > document.documentElement.clientWidth + 0.5) return true;
    for (let el = img.parentElement; el && el !== document.body; el = el.parentElement) {
      const style = getComputedStyle(el), outer = el.getBoundingClientRect();
      if (style.overflowX !== "visible" && (box.left < outer.left - 0.5 || box.right > outer.right + 0.5)) return true;
    }
    return false;
  };
  const images = Array.from(document.images).map(img => ({complete: img.complete, width: img.naturalWidth,
                                                          clipped: clipped(img), alt: img.alt}));
  const marker = document.createElement("pre");
  marker.id = "dk-probe";
  const card = document.querySelector(".card");
  const box = card ? card.getBoundingClientRect() : null;
  const headline = card ? card.querySelector("dd.headline") : null;
  marker.textContent = JSON.stringify({
    images, title: document.title, h2: document.querySelectorAll("h2").length,
    viewport: [window.innerWidth, window.innerHeight], bodyWidth: document.body.getBoundingClientRect().width,
    card: box && {top: box.top, bottom: box.bottom, width: box.width, text: card.innerText,
                  headline: headline && headline.textContent}});
  document.body.appendChild(marker);
});
</script>"""


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Chromium with no network: every host resolves to nothing, background services off."""
    command = [
        CHROMIUM, "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--enable-logging=stderr", "--v=0", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    """Lines Chromium logs for the page's console (errors, CSP violations, failed loads)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Refused to" in line]


def probe(html_path: Path, tmp_path: Path, *window: str) -> dict:
    html = html_path.read_text(encoding="utf-8")
    html = html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    copy = tmp_path / "probe.html"
    copy.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    result = chromium(tmp_path, *window, "--virtual-time-budget=10000", "--dump-dom", copy.as_uri())
    found = re.search(r'<pre id="dk-probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"the page did not finish loading:\n{result.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def screenshot_path(tmp_path: Path) -> Path:
    chosen = os.environ.get("DIGITKIT_REPORT_SCREENSHOT")
    return Path(chosen) if chosen else tmp_path / "report-screenshot.png"


def test_html_report_loads_in_chromium_with_all_images(tiny_run, no_validation_run, tmp_path):
    report = build_report([tiny_run.id, no_validation_run.id], out=tmp_path / "report.html").paths[0]

    page = probe(report, tmp_path)
    assert page["title"] == "digitkit report: 2 runs"
    assert page["h2"] == 3  # leaderboard + one section per run
    # leaderboard chart, per-class F1 of both runs, overlaid curves; 7 per run
    assert len(page["images"]) == 17
    assert all(image["complete"] and image["width"] > 100 for image in page["images"]), page["images"]
    at_1280 = probe(report, tmp_path, "--window-size=1280,800")
    assert at_1280["viewport"][0] == 1280
    assert [image["alt"] for image in at_1280["images"] if image["clipped"]] == []

    shot = screenshot_path(tmp_path)
    shot.parent.mkdir(parents=True, exist_ok=True)
    loaded = chromium(tmp_path, "--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={shot}",
                      report.as_uri())
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert console_messages(loaded.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"report screenshot: {shot}")


def test_summary_card_is_in_the_first_screenful(tiny_run, tmp_path):
    """At 1280x800 the reader sees the test accuracy without scrolling, on a full-width page."""
    report = build_report(tiny_run.id, out=tmp_path / "report.html").paths[0]

    page = probe(report, tmp_path, "--window-size=1280,800", "--hide-scrollbars")
    width, height = page["viewport"]
    card = page["card"]
    assert card is not None, "the report has no summary card"
    assert 0 <= card["top"] and card["bottom"] <= height, (card, page["viewport"])
    saved = json.loads(tiny_run.file("evaluation.json").read_text())
    assert card["headline"] == f"{saved['metrics']['accuracy']:.2%}"
    for label in ("TEST ACCURACY", "TOP-3 ACCURACY", "MACRO F1", "ERRORS", "TRAINING TIME", "MODEL", "TRAINED ON"):
        assert label in card["text"].upper(), label
    assert "dense-sigmoid" in card["text"]
    # Full width: the content uses most of the window instead of a narrow column.
    assert page["bodyWidth"] >= 0.9 * width and card["width"] >= 0.8 * width, page


def test_the_console_check_notices_errors(tmp_path):
    """The clean-console assertion above can fail: a page with a blocked script is caught."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
                    "<script>console.log(1)</script><p>x</p>", encoding="utf-8")
    result = chromium(tmp_path, "--screenshot=" + str(tmp_path / "bad.png"), page.as_uri())
    assert console_messages(result.stderr)
