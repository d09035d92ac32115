"""Helpers for the hostile-input suite: the CLI in a subprocess, fake plugin distributions.

Every case asserts what a user sees (exit code, one line, no traceback) and what is left on
disk. Cases that depend on process-level behaviour (an exit, a hang, an interrupt raised by
a plugin) run the real CLI in a subprocess; the rest use the in-process runner.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hostile_helpers import Completed
from plugin_fixtures import write_fake_plugin


@pytest.fixture
def run_cli(home):
    """Run ``python -m digitkit ARGS`` in a subprocess with this test's home."""

    def invoke(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Completed:
        full_env = {**os.environ, "DIGITKIT_HOME": str(home), "COLUMNS": "100", **(env or {})}
        done = subprocess.run([sys.executable, "-m", "digitkit", *map(str, args)], capture_output=True, text=True,
                              env=full_env, timeout=timeout)
        return Completed(done.returncode, done.stdout, done.stderr)

    return invoke


@pytest.fixture
def plugin_path(tmp_path):
    """Write a fake plugin distribution into a folder for PYTHONPATH; returns an installer.

    ``install(dist, {entry: "module:attr"}, {module: source})`` -> the env to pass to run_cli.
    """
    folder = tmp_path / "site"
    folder.mkdir()

    def install(dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> dict[str, str]:
        write_fake_plugin(folder, dist, entry_points, modules)
        return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]),
                "DIGITKIT_PLUGINS": dist}

    return install
