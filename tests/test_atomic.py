"""Atomic writes: a full disk, an unwritable folder or Ctrl-C leave the old file and no temp file."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from digitkit._internal import atomic
from digitkit.errors import EXIT_FAILURE, DigitkitError


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(atomic.TEMP_PREFIX))


@pytest.fixture
def target(tmp_path) -> Path:
    path = tmp_path / "out" / "metrics.json"
    atomic.write_json(path, {"accuracy": 0.9})
    return path


def test_write_replaces_and_leaves_nothing_behind(target):
    atomic.write_json(target, {"accuracy": 0.95})
    assert '"accuracy": 0.95' in target.read_text()
    assert _temps(target.parent) == []


def _oserror(code: int):
    def raiser(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return raiser


@pytest.mark.parametrize("code, words", [
    (errno.ENOSPC, "the disk is full"), (errno.EROFS, "not writable"), (errno.EACCES, "not writable"),
    (errno.EIO, os.strerror(errno.EIO)),
])
def test_failing_replace_keeps_the_old_file(target, monkeypatch, code, words):
    monkeypatch.setattr(atomic.os, "replace", _oserror(code))
    with pytest.raises(DigitkitError) as caught:
        atomic.write_json(target, {"accuracy": 0.1})
    assert words in str(caught.value) and "previous file" in str(caught.value)
    assert caught.value.exit_code == EXIT_FAILURE
    assert '"accuracy": 0.9' in target.read_text()
    assert _temps(target.parent) == []


def test_disk_full_while_writing(target, monkeypatch):
    monkeypatch.setattr(Path, "write_bytes", _oserror(errno.ENOSPC))
    with pytest.raises(DigitkitError, match="disk is full"):
        atomic.write_bytes(target, b"new")
    assert '"accuracy": 0.9' in target.read_text() and _temps(target.parent) == []


def test_disk_full_at_fsync(target, monkeypatch):
    monkeypatch.setattr(atomic.os, "fsync", _oserror(errno.ENOSPC))
    with pytest.raises(DigitkitError, match="disk is full"):
        atomic.write_bytes(target, b"new")
    assert '"accuracy": 0.9' in target.read_text() and _temps(target.parent) == []


def test_read_only_folder(tmp_path, monkeypatch):
    """Tests run as root, which chmod cannot stop: the refusal is simulated where it happens."""
    monkeypatch.setattr(atomic.tempfile, "mkstemp", _oserror(errno.EACCES))
    with pytest.raises(DigitkitError, match="folder is not writable"):
        atomic.write_text(tmp_path / "a.txt", "x")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_inside_the_block(target):
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_path(target) as temp:
            temp.write_bytes(b"half a fi")
            raise KeyboardInterrupt
    assert '"accuracy": 0.9' in target.read_text() and _temps(target.parent) == []


def test_any_error_inside_the_block_leaves_no_temp(target):
    with pytest.raises(ValueError):
        with atomic.atomic_path(target) as temp:
            temp.write_bytes(b"x")
            raise ValueError("serialisation failed")
    assert _temps(target.parent) == []


def test_new_files_get_the_usual_mode_not_mkstemps_0600(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_UMASK", 0o022)
    atomic.write_text(tmp_path / "report.html", "<p>")
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644


def test_replacing_keeps_the_old_files_mode(target):
    target.chmod(0o640)
    atomic.write_text(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_user_text_in_the_message_is_printable(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "replace", _oserror(errno.ENOSPC))
    name = os.fsdecode(b"\xff[/b].json")
    with pytest.raises(DigitkitError) as caught:
        atomic.write_text(tmp_path / name, "x")
    message = str(caught.value)
    message.encode("utf-8")  # no lone surrogates left
    assert "\\xff[/b].json" in message


def test_a_swallowed_interrupt_still_stops_the_commit(tmp_path):
    """Python drops a KeyboardInterrupt raised inside a GC callback; the noted signal still
    keeps the old file and ends the write as interrupted."""
    from digitkit._internal import interrupts

    target = tmp_path / "report.html"
    target.write_text("the previous report")
    interrupts.note()
    try:
        with pytest.raises(KeyboardInterrupt):
            atomic.write_text(target, "half a report")
    finally:
        interrupts.clear()
    assert target.read_text() == "the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp file left
    atomic.write_text(target, "the next report")  # cleared: writes go through again
    assert target.read_text() == "the next report"


def test_a_command_whose_interrupt_was_swallowed_ends_as_interrupted():
    from digitkit._internal import interrupts
    from digitkit.cli.signals import sigterm_as_interrupt

    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt():
            interrupts.note()  # as the handler does, the KeyboardInterrupt itself lost in a callback
    assert not interrupts.received()
