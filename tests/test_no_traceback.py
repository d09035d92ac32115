"""No traceback in the output of a command that succeeded, on a pseudo-terminal (spinners and all).

The CLI tests' commands run as a user runs them: a real process, stderr on a terminal, so
spinners and live displays draw from their own threads (a tensorflow-datasets import racing
rich's refresh thread once printed a 30-line traceback in ~1 ``fit`` in 8 that succeeded).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_signals_cli import TIMEOUT, Digitkit

IMAGE = Path(__file__).parent / "fixtures" / "images" / "grey8.png"
QUICK = [("--version",), ("--help",), ("list-models",), ("show-model", "25-15-10"), ("plugins",), ("datasets",),
         ("runs",), ("preview", "-n", "2"), ("predict", IMAGE, "--model", "cnn@pretrained")]


def finished(*args: object, home: Path) -> Digitkit:
    process = Digitkit(*args, home=home)
    process.proc.wait(timeout=TIMEOUT)
    for thread in process._readers:
        thread.join(timeout=TIMEOUT)
    return process


def assert_clean(process: Digitkit, args) -> None:
    assert process.proc.returncode == 0, (args, process.stderr[-3000:])
    for stream, text in (("stderr", process.stderr), ("stdout", process.stdout)):
        assert "Traceback" not in text and "Error:" not in text, (args, stream, text[-3000:])


@pytest.mark.parametrize("args", QUICK, ids=lambda a: " ".join(map(str, a[:2])))
def test_quick_commands_print_no_traceback(home, args):
    assert_clean(finished(*args, home=home), args)


@pytest.mark.slow
def test_fit_evaluate_predict_on_a_terminal_print_no_traceback(home):
    # fit and evaluate import tensorflow-datasets under a spinner: the race this file exists for.
    for args in [("fit", "25-15-10", "-e", "2", "--train-size", "300", "--test-size", "100"),
                 ("evaluate", "25-15-10"), ("predict", IMAGE, "--model", "25-15-10"),
                 ("export", "25-15-10", "-o", home / "exported.tflite")]:
        assert_clean(finished(*args, home=home), args)


@pytest.mark.slow
def test_a_long_wait_on_a_terminal_says_what_it_waits_for(home):
    process = finished("info", home=home)  # imports TensorFlow to list devices: seconds
    assert_clean(process, ("info",))
    assert "asking TensorFlow which devices it sees" in process.stderr  # the spinner's text
