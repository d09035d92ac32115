"""The CLI keeps TensorFlow's C++ start-up notices off the user's terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_info_prints_no_tensorflow_startup_noise():
    proc = subprocess.run([sys.executable, "-m", "digitkit", "info"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "tensorflow" in proc.stdout
    assert "oneDNN" not in proc.stderr and "absl::InitializeLog" not in proc.stderr


NOISE_MARKERS = ("absl", "E0000", "W0000", "I0000", "node_def_util", "oneDNN", "tensorflow", "Downloading and preparing",
                 "WARNING:", "cpu_feature_guard")


@pytest.mark.slow
def test_fit_with_evaluation_prints_no_tensorflow_line(tmp_path):
    env = {**os.environ, "DIGITKIT_HOME": str(tmp_path), "DIGITKIT_OFFLINE": "1", "TERM": "dumb"}
    env.pop("DIGITKIT_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "digitkit", "fit", "25-15-10", "--epochs", "1", "--train-size", "200",
                           "--dataset", "sample"], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert any(line.startswith("evaluating on") for line in lines)
    assert [line for line in lines if any(marker in line for marker in NOISE_MARKERS)] == [], proc.stderr
    proc = subprocess.run([sys.executable, "-m", "digitkit", "fit", "25-15-10", "--epochs", "1", "--train-size", "200",
                           "--dataset", "sample", "--json"], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    for line in proc.stderr.splitlines():
        json.loads(line)  # --json: stderr holds only JSON Lines events


@pytest.mark.slow
def test_local_idx_folder_gets_digitkits_own_line(tmp_path):
    import shutil

    from digitkit.data import SAMPLE_DIR

    idx = tmp_path / "idx"
    shutil.copytree(SAMPLE_DIR, idx)
    env = {**os.environ, "DIGITKIT_HOME": str(tmp_path / "home"), "DIGITKIT_OFFLINE": "1", "TERM": "dumb"}
    env.pop("DIGITKIT_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "digitkit", "fit", "25-15-10", "--epochs", "1", "--train-size", "100",
                           "--dataset", str(idx)], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Downloading and preparing" not in proc.stderr + proc.stdout
    assert f"preparing the IDX files of {idx}" in proc.stderr.replace("\n", "")
