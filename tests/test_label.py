"""`digitkit label`: keys in through a pseudo-terminal, DIR/<digit>/ and labels.csv out.

The interactive tests run the real command in a child process on a pty (as a user's
terminal), type keys once the screen shows a picture, and read the files it wrote.
"""

from __future__ import annotations

import csv
import json
import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest

from predict_fixtures import digit_png

MODEL = "25-15-10@pretrained"  # shipped LiteRT weights: no TensorFlow, fast start
SCREEN = b"top 3"  # shown with every picture


@pytest.fixture
def pictures(tmp_path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for index in range(8):
        digit_png(folder / f"p{index}.png", index)
    return folder


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "labels.csv", newline="") as handle:
        return list(csv.DictReader(handle))


class Terminal:
    """`digitkit label ...` on a pseudo-terminal of 80x24."""

    def __init__(self, *args: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the command, on the pty
            os.environ.update(COLUMNS="80", LINES="24", TERM="xterm-256color")
            os.execv(sys.executable, [sys.executable, "-m", "digitkit", "label", *args])
        self.output = b""

    def wait_for(self, marker: bytes, timeout: float = 60) -> bytes:
        """Read until ``marker`` appears in what came since the last key; returns that."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if marker in self.output:
                return self.output
            if select.select([self.fd], [], [], 0.1)[0]:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                self.output += chunk
        raise AssertionError(f"no {marker!r} on screen; got: {self.output[-600:]!r}")

    def press(self, key: bytes, marker: bytes = SCREEN) -> bytes:
        self.output = b""
        os.write(self.fd, key)
        return self.wait_for(marker)

    def finish(self, timeout: float = 30) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            if select.select([self.fd], [], [], 0.1)[0]:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    pass
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("label did not end")

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_keys_label_accept_skip_undo_and_quit(pictures, tmp_path):
    out = tmp_path / "mine"
    term = Terminal(str(pictures), "--out", str(out), "--model", MODEL)
    first = term.wait_for(SCREEN)
    assert b"answer" in first and b"8 left" in first and b"\xe2\x96\x80" in first  # half blocks
    term.press(b"7")
    term.press(b"\r")
    term.press(b"s")
    term.press(b"\x7f")  # back: the skip is undone, that picture is shown again
    term.press(b"3")
    term.press(b"q", b"left to label")
    assert term.finish() == 0
    rows = _rows(out)
    assert [(r["label"], r["how"]) for r in rows] == [("7", "typed"), (rows[1]["answer"], "accepted"),
                                                      ("3", "typed")]
    assert (out / rows[0]["file"]).parent.name == "7" and (out / rows[0]["file"]).is_file()
    assert float(rows[0]["confidence"]) <= float(rows[1]["confidence"]) <= float(rows[2]["confidence"])
    assert os.path.samefile(out / rows[2]["file"], rows[2]["source"])  # a hard link, not a copy
    assert b"3 labelled" in term.output and b"5 left to label" in term.output
    assert all(len(line) <= 80 for line in term.output.decode().replace("\r", "").splitlines()
               if "\x1b" not in line)


def test_a_killed_session_resumes_where_it_stopped(pictures, tmp_path):
    out = tmp_path / "mine"
    term = Terminal(str(pictures), "--out", str(out), "--model", MODEL)
    term.wait_for(SCREEN)
    term.press(b"1")
    term.press(b"2")
    # labels.csv is rewritten just after the next picture is drawn (the fsyncs would delay it)
    end = time.monotonic() + 5
    while time.monotonic() < end and len(_rows(out)) < 2:
        time.sleep(0.01)
    term.kill()
    assert [r["label"] for r in _rows(out)] == ["1", "2"]
    again = Terminal(str(pictures), "--out", str(out), "--model", MODEL)
    screen = again.wait_for(SCREEN)
    assert b"2 labelled" in screen and b"6 left" in screen
    again.press(b"q", b"left to label")
    assert again.finish() == 0
    assert len(_rows(out)) == 2


def test_accept_above_labels_without_a_terminal(cli, pictures, tmp_path):
    out = tmp_path / "mine"
    result = cli("label", str(pictures), "--out", str(out), "--model", MODEL, "--accept-above", "0.5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = _rows(out)
    assert data["labelled"] == len(rows) == data["this_session"]["auto"] > 0
    assert data["left"] == 8 - len(rows)
    assert all(float(r["confidence"]) >= 0.5 and r["label"] == r["answer"] and r["how"] == "auto" for r in rows)
    assert sum(data["counts"].values()) == len(rows)
    again = cli("label", str(pictures), "--out", str(out), "--model", MODEL, "--accept-above", "0.5", "--json")
    assert json.loads(again.stdout)["decided_before"] == len(rows) and len(_rows(out)) == len(rows)


def test_without_a_terminal_nor_accept_above_it_refuses(cli, pictures, tmp_path):
    result = cli("label", str(pictures), "--out", str(tmp_path / "mine"), "--model", MODEL)
    assert result.exit_code == 2
    assert "stdin is not one" in result.output and "--accept-above" in result.output
    assert not (tmp_path / "mine").exists()


def test_unreadable_pictures_are_skipped_with_a_line(cli, pictures, tmp_path):
    (pictures / "broken.png").write_bytes(b"not a png")
    result = cli("label", str(pictures), "--out", str(tmp_path / "mine"), "--model", MODEL, "--accept-above",
                 "0.01")
    assert result.exit_code == 0
    assert "skipped" in result.stderr and "broken.png" in result.stderr
    assert len(_rows(tmp_path / "mine")) == 8


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_out_is_refused_before_work(cli, pictures, tmp_path):
    out = tmp_path / "locked"
    out.mkdir()
    out.chmod(0o500)
    try:
        result = cli("label", str(pictures), "--out", str(out), "--model", MODEL, "--accept-above", "0.5")
    finally:
        out.chmod(0o700)
    assert result.exit_code == 2 and "is not writable" in result.output
    assert "Traceback" not in result.output


def test_an_out_that_cannot_be_a_folder_is_refused(cli, pictures, tmp_path):
    (tmp_path / "file").write_text("x")
    result = cli("label", str(pictures), "--out", str(tmp_path / "file" / "mine"), "--model", MODEL,
                 "--accept-above", "0.5")
    assert result.exit_code == 2 and "is not writable" in result.output


def test_nothing_to_label_is_one_line(cli, tmp_path):
    result = cli("label", str(tmp_path / "missing"), "--out", str(tmp_path / "mine"), "--accept-above", "0.5")
    assert result.exit_code == 3 and "no pictures to label" in result.output and "missing" in result.output


def test_a_foreign_labels_csv_is_refused(cli, pictures, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "labels.csv").write_text("name,digit\na.png,3\n")
    result = cli("label", str(pictures), "--out", str(out), "--model", MODEL, "--accept-above", "0.5")
    assert result.exit_code == 3 and "not a digitkit labels file" in result.output


def test_the_labelled_folder_is_a_dataset(cli, pictures, tmp_path):
    from digitkit.data import load_digits

    out = tmp_path / "mine"
    cli("label", str(pictures), "--out", str(out), "--model", MODEL, "--accept-above", "0.01")
    digits = load_digits(str(out), "train")  # one per digit: nothing held out for test
    assert sorted(digits.labels.tolist()) == sorted(int(r["label"]) for r in _rows(out))
    assert len(digits) == 8
