"""The CLI keeps TensorFlow's C++ start-up notices off the user's terminal."""

from __future__ import annotations

import subprocess
import sys


def test_info_prints_no_tensorflow_startup_noise():
    proc = subprocess.run([sys.executable, "-m", "digitkit", "info"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "tensorflow" in proc.stdout
    assert "oneDNN" not in proc.stderr and "absl::InitializeLog" not in proc.stderr
