"""The serve page's wide pad in a real browser (Debian's Chromium driven by Playwright): a
number written with the pointer reads back, one box per digit over the drawing, the same
answer `/api/read` gives for the PNG the page sent; doubtful digits are marked other than by
colour; the pad fits a phone's width; touch and pen write too.

The server answers with the shipped cnn-best weights (through LiteRT): nothing is trained.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
pytest.importorskip("playwright", reason="playwright is not installed (pip install 'digitkit[browser-test]')")

from reading_fixtures import MODEL, first_of  # noqa: E402
from serve_fixtures import BROWSER_MARKS, Server, browser, ink_runs, opened  # noqa: E402,F401,F811


pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(MODEL, tmp_path_factory.mktemp("serve-read-home"))
    yield server
    code, err = server.stop()
    assert code == 0, err


def write_number(page, text: str) -> None:
    """Trace held-out sample test digits side by side on the wide pad, row by row, with mouse
    pointer events: each run of ink in a row is one stroke, shortened by the pen's half width
    so the digits keep about their MNIST weight."""
    canvas = page.locator("#number-pad")
    canvas.scroll_into_view_if_needed()  # below the fold at 1280x800: the mouse must reach it
    box = canvas.bounding_box()
    width, height = canvas.evaluate("c => [c.width, c.height]")
    scale = 0.9 * box["height"] / 28  # CSS pixels per MNIST pixel: the digits fill the height
    inset = 0.5 * 12 * box["height"] / height  # NUMBER_LINE_WIDTH / 2, in CSS pixels
    top = box["y"] + 0.05 * box["height"]
    left = box["x"] + 0.5 * scale * 28
    for char in text:
        image = first_of(int(char))
        for row in range(28):
            y = top + (row + 0.5) * scale
            for first, last in ink_runs(image[row]):
                x0 = left + first * scale + min(inset, (last - first + 1) * scale / 2)
                x1 = left + (last + 1) * scale - min(inset, (last - first + 1) * scale / 2)
                page.mouse.move(x0, y)
                page.mouse.down()
                page.mouse.move(max(x0, x1), y, steps=max(2, last - first))
                page.mouse.up()
        left += 24 * scale  # the sample digits are about 20 of 28 px wide: a small gap


def api_read(server, png: bytes) -> dict:
    request = urllib.request.Request(server.url.rstrip("/") + "/api/read?top_k=3", data=png,
                                     headers={"Content-Type": "image/png"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


@pytest.fixture
def page(browser, server):
    with opened(browser, server, 1280, 800) as page:
        yield page


def test_a_written_number_reads_back_with_a_box_per_digit(page, server):
    from playwright.sync_api import expect

    expect(page.locator("#number-read")).to_be_disabled()  # nothing to read yet
    write_number(page, "4071")
    expect(page.locator("#number")).to_have_text("4071", timeout=30_000)
    # The PNG the page sends on "Read" reads the same through the API, box for box.
    with page.expect_response(lambda r: "/api/read" in r.url) as answered:
        page.locator("#number-read").click()
    response = answered.value
    shown = response.json()["readings"][0]
    direct = api_read(server, response.request.post_data_buffer)["readings"][0]
    assert shown["text"] == direct["text"] == "4071"
    assert [d["box"] for d in shown["digits"]] == [d["box"] for d in direct["digits"]]
    expect(page.locator("#number-status")).to_contain_text("4 digits")
    boxes = page.locator("#number-boxes > li")
    expect(boxes).to_have_count(4)
    canvas = page.locator("#number-pad").bounding_box()
    width, height = shown["size"]
    for i, digit in enumerate(shown["digits"]):
        li = boxes.nth(i)
        assert li.get_attribute("data-digit") == "4071"[i]
        expect(li.locator(".tag")).to_contain_text(f"{'4071'[i]} ")
        x0, y0, x1, y1 = digit["box"]
        placed = li.bounding_box()  # the PNG's pixels scaled to the canvas's CSS size
        assert placed["x"] == pytest.approx(canvas["x"] + x0 * canvas["width"] / width, abs=1.5)
        assert placed["y"] == pytest.approx(canvas["y"] + y0 * canvas["height"] / height, abs=1.5)
        assert placed["width"] == pytest.approx((x1 - x0) * canvas["width"] / width, abs=1.5)
        assert placed["height"] == pytest.approx((y1 - y0) * canvas["height"] / height, abs=1.5)
    # Undo takes a stroke away and reads again; Clear (Escape, the last pad drawn on) empties it.
    page.locator("#number-undo").click()
    expect(page.locator("#number-status")).to_contain_text("sure", timeout=30_000)
    page.keyboard.press("Escape")
    expect(page.locator("#number")).to_have_text("–")
    expect(boxes).to_have_count(0)
    expect(page.locator("#number-read")).to_be_disabled()


def test_doubtful_digits_are_marked_by_more_than_colour(page):
    """The server's statuses are tested with the reader; here, how the page shows them."""
    from playwright.sync_api import expect

    answer = {"model": {"name": "cnn-best", "backend": "litert"}, "failures": [], "readings": [{
        "input": "drawing", "text": "17", "confidence": 0.41, "status": "unsure", "size": [800, 200],
        "digits": [
            {"box": [100, 20, 160, 180], "digit": 1, "confidence": 0.998, "status": "ok", "top_k": []},
            {"box": [400, 40, 520, 190], "digit": 7, "confidence": 0.412, "status": "unsure", "top_k": []},
        ]}]}
    page.route("**/api/read?*", lambda route: route.fulfill(status=200, content_type="application/json",
                                                              body=json.dumps(answer)))
    page.evaluate("""() => {
        const pad = document.getElementById('number-pad');
        const box = pad.getBoundingClientRect();
        const at = (type, x, y) => pad.dispatchEvent(new PointerEvent(type, {pointerId: 3, pointerType: 'mouse',
            isPrimary: true, button: type === 'pointermove' ? -1 : 0, buttons: type === 'pointerup' ? 0 : 1,
            clientX: box.left + x, clientY: box.top + y, bubbles: true}));
        at('pointerdown', 100, 20); at('pointermove', 100, 120); at('pointerup', 100, 120);
    }""")
    page.locator("#number-read").click()
    expect(page.locator("#number")).to_have_text("17")
    ok, doubt = page.locator("#number-boxes > li").nth(0), page.locator("#number-boxes > li").nth(1)
    expect(doubt.locator(".tag")).to_have_text("? 7 41%")
    expect(ok.locator(".tag")).to_have_text("1 99%")
    assert doubt.get_attribute("aria-label") == "7, 41.2 %, unsure"
    assert doubt.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    assert ok.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    expect(page.locator("#number-status")).to_contain_text("(unsure). Look again at the digit marked ?.")


def test_a_server_error_is_shown_and_clears_the_boxes(browser, server):
    from playwright.sync_api import expect

    with opened(browser, server, 1280, 800, expected=("status of 400",)) as page:
        page.locator("#number-pad").click(position={"x": 300, "y": 100})  # one dot: a speck, no digit
        expect(page.locator("#number-status")).to_have_text("no digits found", timeout=30_000)
        expect(page.locator("#number-status")).to_have_class("status error")
        expect(page.locator("#number")).to_have_text("–")
        expect(page.locator("#number-boxes > li")).to_have_count(0)


@pytest.mark.parametrize("kind", ["touch", "pen"])
def test_touch_and_pen_write_at_a_phone_width(browser, server, kind):
    from playwright.sync_api import expect

    with opened(browser, server, 390, 844) as page:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        pad = page.locator("#number-pad").bounding_box()
        assert pad["x"] >= 0 and pad["x"] + pad["width"] <= 390 and pad["height"] >= 100
        page.evaluate("""(kind) => {
            const pad = document.getElementById('number-pad');
            const box = pad.getBoundingClientRect();
            const at = (type, x, y) => pad.dispatchEvent(new PointerEvent(type, {pointerId: 9, pointerType: kind,
                isPrimary: true, button: type === 'pointermove' ? -1 : 0, buttons: type === 'pointerup' ? 0 : 1,
                pressure: 0.5, clientX: box.left + x, clientY: box.top + y, bubbles: true}));
            const h = box.height;
            at('pointerdown', 60, 0.15 * h);                           // a "1"
            for (let y = 0.15 * h; y <= 0.85 * h; y += 4) at('pointermove', 60, y);
            at('pointerup', 60, 0.85 * h);
        }""", kind)
        expect(page.locator("#number")).not_to_have_text("–", timeout=30_000)
        expect(page.locator("#number-boxes > li")).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_tab_reaches_the_number_pads_buttons(browser, server):
    # The dot that enables the buttons is read when the pen rests: "no digits found", a 400
    # that Chromium logs as a console error (whether it comes before the test ends is timing).
    with opened(browser, server, 1280, 800, expected=("status of 400",)) as page:
        tab_through_the_number_pad(page)


def tab_through_the_number_pad(page) -> None:
    page.locator("#number-pad").click(position={"x": 40, "y": 40})  # its buttons are disabled while empty
    page.wait_for_function("!document.getElementById('number-clear').disabled")
    page.locator("header h1").click()
    reached = []
    for _ in range(10):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("""() => {
            const e = document.activeElement;
            return [e.id || e.tagName.toLowerCase(), getComputedStyle(e).outlineStyle];
        }"""))
    ids = [id_ for id_, _ in reached]
    for control in ("number-read", "number-undo", "number-clear"):
        assert control in ids, reached
    assert all(style != "none" for id_, style in reached if id_.startswith("number-")), reached
