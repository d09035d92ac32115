"""Hostile inputs through the real CLI in a subprocess (timeout + memory limit), control
characters in names, SIGTERM during predict, and the memory bound for the worst image."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from predict_fixtures import digit_png, install_run, trained

MEMORY_LIMIT = 3 * 1024**3  # as in the report: /dev/zero used to hit MemoryError under 3 GB
TIMEOUT = 120


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def digitkit(*args, home: Path, stdin=subprocess.DEVNULL, timeout: float = TIMEOUT):
    env = dict(os.environ, DIGITKIT_HOME=str(home), COLUMNS="100", TERM="dumb", DIGITKIT_PLUGINS="none",
               DIGITKIT_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "digitkit", *map(str, args)], env=env, stdin=stdin,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_memory)


@pytest.fixture
def hostile(tmp_path):
    """A good digit next to a FIFO, symlinks to /dev/zero and /dev/urandom, and a folder."""
    folder = tmp_path / "in"
    folder.mkdir()
    digit_png(folder / "good.png")
    os.mkfifo(folder / "fifo.png")
    (folder / "zero.png").symlink_to("/dev/zero")
    (folder / "urandom.png").symlink_to("/dev/urandom")
    (folder / "dir.png").mkdir()
    return folder


@pytest.fixture
def cnn_home(home, tmp_path_factory):
    install_run(trained("cnn", tmp_path_factory), home)
    return home


def test_preview_of_special_files_fails_each_alone(hostile, home):
    names = ["good.png", "fifo.png", "zero.png", "urandom.png", "dir.png"]
    result = digitkit("preview", *[hostile / n for n in names], home=home)
    assert result.returncode == 7, result.stderr
    assert "good.png" in result.stdout and "model input" in result.stdout
    assert "FIFO" in result.stderr and result.stderr.count("a device") == 2 and "folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_predict_of_special_files_predicts_the_good_one(hostile, cnn_home):
    names = ["fifo.png", "zero.png", "good.png", "urandom.png"]
    result = digitkit("predict", *[hostile / n for n in names], "--json", home=cnn_home)
    assert result.returncode == 7, result.stderr
    data = json.loads(result.stdout)
    assert [Path(p["input"]).name for p in data["predictions"]] == ["good.png"]
    assert sorted(Path(f["input"]).name for f in data["failures"]) == ["fifo.png", "urandom.png", "zero.png"]
    assert "Traceback" not in result.stderr


def test_stdin_from_dev_zero_is_capped(cnn_home):
    with open("/dev/zero", "rb") as zero:
        result = digitkit("predict", "-", home=cnn_home, stdin=zero)
    assert result.returncode == 3, result.stderr
    assert "<stdin>" in result.stderr and "larger than" in result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr


def test_control_characters_in_names_are_escaped_but_json_is_exact(cli, cnn_home, tmp_path):
    evil = "seven\x1b]0;pwned\x07\x1b[2J\x9b.png"
    digit_png(tmp_path / evil)
    (tmp_path / "empty\x1b[31m.png").write_bytes(b"")
    table = cli("predict", tmp_path / evil, tmp_path / "empty\x1b[31m.png")
    assert table.exit_code == 7
    for stream in (table.stdout, table.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\x9b" not in stream
    assert "seven\\x1b]0;pwned\\x07\\x1b[2J\\x9b.png" in table.stdout.replace("\n", "").replace("│", "").replace(" ", "")
    assert "empty\\x1b[31m.png" in table.stderr
    as_json = cli("predict", tmp_path / evil, "--json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["predictions"][0]["input"] == str(tmp_path / evil)
    preview = cli("preview", tmp_path / evil)
    assert preview.exit_code == 0 and "\x1b" not in preview.stdout and "\\x1b]0;pwned" in preview.stdout


@pytest.mark.slow
def test_sigterm_during_a_long_predict_says_interrupted_and_exits_130(cnn_home, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    digit_png(folder / "00000.png")
    for i in range(1, 20000):  # hard links: 20,000 inputs in a second, no disk space
        os.link(folder / "00000.png", folder / f"{i:05d}.png")
    env = dict(os.environ, DIGITKIT_HOME=str(cnn_home), COLUMNS="100", TERM="dumb", DIGITKIT_PLUGINS="none",
               DIGITKIT_OFFLINE="1")
    process = subprocess.Popen([sys.executable, "-m", "digitkit", "predict", str(folder), "--json"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_limit_memory)
    time.sleep(4)  # imports done; reading the 20,000 files
    assert process.poll() is None, "predict finished before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert stdout == ""  # no half-written JSON


# Peak RSS from VmHWM: ru_maxrss survives exec, so a child of a big pytest process would
# report the parent's size; VmHWM belongs to the new program's own address space.
WORST = """
import re, sys
from digitkit.intake import read_digit
digit = read_digit(sys.argv[1])
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(peak_kb // 1024, float(digit.max()))
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["RGBA", "I;16", "JPEG photo"])
def test_memory_for_the_largest_accepted_image_stays_bounded(tmp_path, mode):
    from PIL import Image, ImageDraw

    side = 6300  # 39.7 MP, just under the 40 MP limit
    if mode == "JPEG photo":  # a small thin digit on beige paper, a shadow: the photo path
        image = Image.new("RGB", (side, side), (236, 222, 190))
        draw = ImageDraw.Draw(image)
        draw.polygon([(0, 0), (3000, 0), (2000, side), (0, side)], fill=(120, 110, 100))
        draw.line((3200, 3000, 3600, 3000, 3350, 3600), fill=(25, 25, 30), width=12)
    elif mode == "RGBA":  # a white pen on a transparent canvas: the 1.9 GB case of the report
        image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        ImageDraw.Draw(image).line((1500, 1000, 4800, 1000, 2600, 5300), fill=(255, 255, 255, 255), width=400)
    else:
        image = Image.new("I;16", (side, side), 60000)
        ImageDraw.Draw(image).line((1500, 1000, 4800, 1000, 2600, 5300), fill=2000, width=400)
    path = tmp_path / ("huge.jpg" if mode == "JPEG photo" else "huge.png")
    image.save(path)
    del image
    proc = subprocess.run([sys.executable, "-c", WORST, str(path)], capture_output=True, text=True,
                          timeout=300, preexec_fn=_limit_memory)
    assert proc.returncode == 0, proc.stderr
    peak_mb, top = proc.stdout.split()
    assert float(top) == 1.0
    print(f"peak RSS {mode}: {peak_mb} MB")
    assert int(peak_mb) < 450  # documented in docs/predict.md
