"""`digitkit preview` and the digit renderer: layout, modes, NO_COLOR, pipes, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from rich.console import Console

from digitkit.render.digits import blocks_text, choose_mode, class_bars, digit_grid, ramp_text, render_digit

ANSI = re.compile(r"\x1b\[")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setenv("DIGITKIT_OFFLINE", "1")


def _captions(stdout: str) -> list[str]:
    return re.findall(r"\d #\d+", stdout)


def test_grid_fits_a_narrow_terminal(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "24")
    result = cli("preview", "-d", "sample", "-n", "3")
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 24
    assert _captions(result.stdout) == ["5 #0", "0 #1", "4 #2"]


def test_grid_puts_as_many_digits_per_row_as_fit(cli):
    result = cli("preview", "-d", "sample", "-n", "4")  # COLUMNS=100: three 28-column digits
    rows = [_captions(line) for line in result.stdout.splitlines() if _captions(line)]
    assert rows == [["5 #0", "0 #1", "4 #2"], ["1 #3"]]
    assert "sample train: 4 of 6,000 digits" in result.stderr


def test_not_a_tty_uses_the_character_ramp_without_colour(cli):
    result = cli("preview", "-d", "sample", "-n", "1")
    assert not ANSI.search(result.stdout)
    assert "@" in result.stdout and "▀" not in result.stdout


def test_blocks_without_colour_are_monochrome(cli, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = cli("preview", "-d", "sample", "-n", "1", "--mode", "blocks")
    assert result.exit_code == 0
    assert not ANSI.search(result.stdout)
    assert set("▀▄█") & set(result.stdout)


def test_auto_mode_picks_blocks_only_with_colour(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert choose_mode(Console(force_terminal=True, color_system="truecolor")) == "blocks"
    assert choose_mode(Console(force_terminal=False)) == "ramp"
    monkeypatch.setenv("NO_COLOR", "1")
    assert choose_mode(Console(force_terminal=True, color_system="truecolor")) == "ramp"


def test_coloured_blocks_carry_grey_levels():
    image = np.zeros((2, 2), np.uint8)
    image[0, 0], image[1, 1] = 255, 128
    text = blocks_text(image)
    assert text.plain == "▀▀"
    colours = {(span.style.color.triplet.hex, span.style.bgcolor.triplet.hex) for span in text.spans}
    assert colours == {("#ffffff", "#000000"), ("#000000", "#808080")}


def test_ramp_keeps_aspect_ratio_and_shrinks_to_width():
    digit = np.zeros((28, 28), np.uint8)
    digit[:, 14] = 255
    lines = ramp_text(digit).plain.splitlines()
    assert len(lines) == 14 and {len(line) for line in lines} == {28}
    narrow = render_digit(digit, "ramp", width=10).plain.splitlines()
    assert max(len(line) for line in narrow) <= 10
    assert render_digit(digit.reshape(784), "ramp").plain == ramp_text(digit).plain  # flat input


def test_label_and_index_select_digits(cli):
    labelled = cli("preview", "-d", "sample", "--split", "test", "--label", "3", "-n", "4")
    assert [c.split()[0] for c in _captions(labelled.stdout)] == ["3"] * 4
    indexed = cli("preview", "-d", "sample", "--index", "17", "-n", "2")
    assert _captions(indexed.stdout) == ["8 #17", "6 #18"]


@pytest.mark.parametrize("args, message", [
    (["--count", "0"], "count"),
    (["--index", "6000"], "index < 6000"),
    (["--label", "12"], "label from 0 to 9"),
    (["--mode", "fancy"], "'fancy' is not one of 'auto', 'ramp', 'blocks'"),
    (["--split", "dev"], "'dev' is not one of 'train', 'test'"),
])
def test_bad_options_are_one_line_usage_errors(cli, args, message):
    result = cli("preview", "-d", "sample", *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_stats_draws_per_class_bars(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    result = cli("preview", "-d", "sample", "--split", "test", "--stats")
    assert result.exit_code == 0
    rows = [line for line in result.stdout.splitlines() if "█" in line]
    assert len(rows) == 10 and max(len(line) for line in result.stdout.splitlines()[1:]) <= 50
    counts = [int(re.search(r"([\d,]+)\s+\d+%$", row).group(1).replace(",", "")) for row in rows]
    assert sum(counts) == 1000


def test_class_bars_scale_to_the_largest_class():
    table = class_bars([10, 5, 0], 40)
    console = Console(width=40, file=open("/dev/null", "w"), color_system=None)
    with console.capture() as captured:
        console.print(table)
    lines = captured.get().splitlines()
    assert lines[0].count("█") == 2 * lines[1].count("█") and "█" not in lines[2]


def test_empty_grid_renders_nothing():
    assert digit_grid([], [], 80).plain == ""


# --- image files --------------------------------------------------------------------------

@pytest.fixture
def seven(tmp_path):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (90, 60), "white")
    ImageDraw.Draw(image).line((30, 10, 60, 10, 40, 50), fill="black", width=6)
    path = tmp_path / "[red]seven.png"  # markup-like name must print as text
    image.save(path)
    return path


def test_image_file_shown_as_given_and_as_model_input(cli, seven):
    result = cli("preview", seven)
    assert result.exit_code == 0, result.stderr
    assert "[red]seven.png" in result.stdout
    assert "as given (90x60" in result.stdout and "model input (28x28)" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_missing_and_unreadable_files(cli, seven, tmp_path):
    missing = cli("preview", tmp_path / "nope.png")
    assert missing.exit_code == 3 and "does not exist" in missing.stderr
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    single = cli("preview", bad)
    assert single.exit_code == 3 and len(single.stderr.strip().splitlines()) == 1
    mixed = cli("preview", seven, bad)
    assert mixed.exit_code == 7 and "1 of 2 images could not be read" in mixed.stderr
    assert "model input" in mixed.stdout


def test_files_and_dataset_options_do_not_mix(cli, seven):
    result = cli("preview", seven, "--stats")
    assert result.exit_code == 2 and "cannot be combined" in result.stderr
