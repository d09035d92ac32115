"""Stdout that cannot be written: a full device, a closed pipe. One line, a documented code, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from digitkit.errors import EXIT_UNAVAILABLE

IMAGE = Path(__file__).parent / "fixtures" / "images" / "grey8.png"
FULL = "/dev/full"


def _digitkit(args, home: Path, stdout) -> subprocess.CompletedProcess:
    env = dict(os.environ, DIGITKIT_HOME=str(home), DIGITKIT_PLUGINS="none", DIGITKIT_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "digitkit", *map(str, args)], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, env=env, timeout=180)


@pytest.mark.skipif(not os.path.exists(FULL), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args", [("predict", "--json", IMAGE), ("predict", IMAGE), ("predict", "--csv", IMAGE),
                                  ("list-models",), ("list-models", "--json"), ("--version",), ("runs", "--json")],
                         ids=lambda a: " ".join(map(str, a[:2])))
def test_stdout_on_a_full_device_is_one_line(home, args):
    with open(FULL, "w") as full:
        proc = _digitkit(args, home, full)
    assert proc.returncode == EXIT_UNAVAILABLE, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    assert proc.stderr.splitlines()[-1] == "error: cannot write to stdout: no space left on the device"


def test_a_reader_that_leaves_early_gets_one_line(home):
    env = dict(os.environ, DIGITKIT_HOME=str(home), DIGITKIT_PLUGINS="none", DIGITKIT_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "digitkit", "predict", "--csv", *[IMAGE] * 400],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    _, stderr = proc.communicate(timeout=180)
    stderr = stderr.decode()
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert stderr.splitlines()[-1] == "error: cannot write to stdout: the reader closed the pipe"
    assert proc.returncode == EXIT_UNAVAILABLE
