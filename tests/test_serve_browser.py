"""The page in a real browser: Debian's Chromium driven by Playwright, against `digitkit serve`.

A "7" from the held-out test set is traced on the canvas with pointer events and must be
answered 7; an uploaded file gets its digit; Tab reaches every control; nothing is logged
as an error and nothing is requested from another origin.
"""

from __future__ import annotations


import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette) is not installed")
pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
pytest.importorskip("playwright", reason="playwright is not installed (pip install 'digitkit[browser-test]')")

from predict_fixtures import digit_png, install_run, trained  # noqa: E402
from serve_fixtures import BROWSER_MARKS, Server, browser, ink_runs, opened, photo_jpeg  # noqa: E402,F401,F811

SCALE = 10  # canvas pixels per MNIST pixel (280 / 28)

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve-browser-home")
    install_run(trained("cnn", tmp_path_factory), home)
    server = Server("cnn", home)
    yield server
    code, err = server.stop()
    assert code == 0, err


@pytest.fixture
def page(browser, server):
    with opened(browser, server) as page:
        yield page


def trace_digit(page, index: int) -> int:
    """Paint a held-out test digit on the canvas, row by row, with mouse pointer events."""
    from digitkit.data import load_digits

    digits = load_digits("sample", split="test")
    image, label = digits.images[index], int(digits.labels[index])
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 28
    for row in range(28):
        for first, last in ink_runs(image[row]):
            y = box["y"] + (row + 0.5) * scale
            page.mouse.move(box["x"] + (first + 0.5) * scale, y)
            page.mouse.down()
            page.mouse.move(box["x"] + (last + 0.5) * scale, y, steps=max(2, last - first))
            page.mouse.up()
    return label


def test_a_traced_seven_is_answered_seven(page):
    from playwright.sync_api import expect

    assert not page.locator("#seen-figure").is_visible()  # no empty "what the model sees" box before an answer
    assert trace_digit(page, 0) == 7
    expect(page.locator("#digit")).to_have_text("7", timeout=20_000)
    expect(page.locator("#bars li").first.locator(".label")).to_have_text("7")
    expect(page.locator("#bars li")).to_have_count(10)
    assert page.locator("#seen").get_attribute("src").startswith("data:image/png;base64,")
    assert page.locator("#seen").is_visible()
    # undo and clear, by keyboard too
    page.locator("#undo").focus()
    page.keyboard.press("Enter")
    page.locator("#clear").click()
    expect(page.locator("#digit")).to_have_text("–")
    assert page.locator("#undo").is_disabled()


@pytest.mark.parametrize("kind", ["touch", "pen"])
def test_touch_and_pen_draw_too(page, kind):
    from playwright.sync_api import expect

    page.evaluate("""(kind) => {
        const pad = document.getElementById('pad');
        const box = pad.getBoundingClientRect();
        const at = (type, x, y) => pad.dispatchEvent(new PointerEvent(type, {pointerId: 7, pointerType: kind,
            isPrimary: true, button: type === 'pointermove' ? -1 : 0, buttons: type === 'pointerup' ? 0 : 1,
            pressure: 0.5, clientX: box.left + x, clientY: box.top + y, bubbles: true}));
        at('pointerdown', 140, 40);
        for (let y = 40; y <= 240; y += 10) at('pointermove', 140, y);
        at('pointerup', 140, 240);
    }""", kind)
    expect(page.locator("#digit")).not_to_have_text("–", timeout=20_000)
    assert not page.locator("#undo").is_disabled()


def test_uploading_files_answers_each(page, tmp_path):
    from playwright.sync_api import expect

    seven = tmp_path / "seven.png"
    assert digit_png(seven, index=0) == 7
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    page.set_input_files("#files", [str(seven), str(notes)])
    expect(page.locator("#uploads > li")).to_have_count(2, timeout=20_000)
    first = page.locator("#uploads > li").first
    assert first.get_attribute("data-digit") == "7"
    expect(first.locator(".name")).to_have_text("seven.png: 7")
    expect(page.locator("#uploads .failed")).to_contain_text("notes.txt: unsupported type text/plain")
    expect(page.locator("#status")).to_contain_text("1 of 2 files predicted")


def test_an_uploaded_photo_shows_the_picture_as_found_beside_the_digit(page, tmp_path):
    from playwright.sync_api import expect

    assert not page.locator("#seen-figure").is_visible()  # no empty box before the first answer
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(photo_jpeg())
    page.set_input_files("#files", [str(photo)])
    found = page.locator("#uploads > li .found figure")
    expect(found).to_have_count(5, timeout=20_000)
    expect(page.locator("#uploads .found figcaption")).to_have_text(["picture", "paper", "ink", "crop", "digit"])
    for i in range(5):
        image = found.nth(i).locator("img")
        assert image.get_attribute("src").startswith("data:image/png;base64,")
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert image.is_visible()
    assert not page.locator("#seen-figure").is_visible()  # files answer in the list, not the drawing's box


def test_tab_reaches_every_control_with_a_visible_focus(page):
    trace_digit(page, 0)  # undo and clear are disabled (so not focusable) on an empty pad
    page.wait_for_function("!document.getElementById('clear').disabled")
    page.locator("header h1").click()  # focus navigation starts at the top
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("""() => {
            const e = document.activeElement;
            const shown = e.id === 'files' ? e.parentElement : e;
            return [e.id || e.tagName.toLowerCase(), getComputedStyle(shown).outlineStyle];
        }"""))
    ids = [id_ for id_, _ in reached]
    for control in ("model", "undo", "clear", "files", "a"):
        assert control in ids, reached
    assert all(style != "none" for id_, style in reached if id_ in ("model", "undo", "clear", "files", "a")), reached
