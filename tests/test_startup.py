"""Commands that do not need TensorFlow must not import it (checked in a fresh process)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("tensorflow", "keras", "tensorflow_datasets", "matplotlib", "seaborn")
PROBE = """
import sys
sys.argv = ["digitkit", *{args!r}]
from digitkit.cli.app import app
try:
    app()
except SystemExit:
    pass
heavy = [m for m in {heavy!r} if m in sys.modules]
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["list-models"], ["list-models", "--json"],
                                  ["plugins"], ["runs"], ["fit", "--help"], ["predict", "--help"],
                                  ["show-model", "cnn"], ["show-model", "25-15-10", "--json"]])
def test_light_commands_do_not_import_heavy_modules(args):
    env = {**os.environ, "_DIGITKIT_COMPLETE": ""}
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
                          capture_output=True, text=True, env=env, timeout=120)
    line = [l for l in proc.stderr.splitlines() if l.startswith("HEAVY=")]
    assert line == ["HEAVY="], proc.stderr[-2000:]


def test_completion_does_not_import_heavy_modules():
    env = {**os.environ, "_DIGITKIT_COMPLETE": "complete_bash", "COMP_WORDS": "digitkit show-model den",
           "COMP_CWORD": "2"}
    code = PROBE.format(args=[], heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", code.replace('sys.argv = ["digitkit", *[]]', 'sys.argv = ["digitkit"]')],
                          capture_output=True, text=True, env=env, timeout=120)
    assert "dense-sigmoid" in proc.stdout
    assert [l for l in proc.stderr.splitlines() if l.startswith("HEAVY=")] == ["HEAVY="]
