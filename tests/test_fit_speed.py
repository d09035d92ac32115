"""Training speed settings chosen before TensorFlow starts: oneDNN for convolutional models."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = ("import os, sys; from digitkit.training import speed; speed.prefer_onednn({shape}); "
         "print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'), 'tensorflow' in sys.modules)")


@pytest.mark.parametrize(("shape", "preset", "expected"), [
    ((28, 28, 1), None, "1"),   # a conv model gets oneDNN's kernels
    ((784,), None, "None"),     # dense models keep TensorFlow's default
    ((28, 28, 1), "0", "0"),    # the user's own choice wins
])
def test_onednn_is_asked_for_conv_models_only_and_never_over_the_users_choice(shape, preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if preset is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = preset
    out = subprocess.run([sys.executable, "-c", PROBE.format(shape=shape)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [expected, "False"]  # decided without importing TensorFlow


def test_onednn_is_left_alone_once_tensorflow_runs(monkeypatch):
    import tensorflow  # noqa: F401  (the setting is read at import: too late now)

    from digitkit.training import speed

    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    speed.prefer_onednn((28, 28, 1))
    assert "TF_ENABLE_ONEDNN_OPTS" not in os.environ
