"""Hostile plugins, through the real CLI in a subprocess: exits, hangs, interrupts, output, fakes.

Each plugin is a fake distribution (dist-info + module) on PYTHONPATH; DIGITKIT_PLUGINS
names it so only it loads beside the built-in zoo.
"""

from __future__ import annotations

import json
import time

import pytest

from hostile_helpers import SPEC_SOURCE, assert_one_error_line
from digitkit.errors import EXIT_OK, EXIT_PLUGIN


def _lists_the_zoo(result) -> None:
    assert result.exit_code == EXIT_OK, (result.stdout, result.stderr)
    assert "cnn" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert "1 plugin entry point(s) broken" in result.stderr


def _broken(run_cli, env) -> str:
    """The one broken plugin's error, as `digitkit plugins --json` reports it."""
    result = run_cli("plugins", "--json", env=env, timeout=60)
    assert result.exit_code == EXIT_OK, result.stderr
    broken = json.loads(result.stdout)["broken"]
    assert len(broken) == 1, broken
    return broken[0]["error"]


def test_a_plugin_calling_sys_exit_at_import_is_a_broken_plugin(run_cli, plugin_path):
    env = plugin_path("digitkit-quitter", {"quitter": "quitter_mod:SPEC"}, {"quitter_mod": "import sys\nsys.exit(0)\n"})
    result = run_cli("list-models", env=env)
    _lists_the_zoo(result)
    assert "called sys.exit" in _broken(run_cli, env)
    assert_one_error_line(run_cli("show-model", "quitter", env=env), EXIT_PLUGIN, "broken plugin", "called sys.exit")
    assert_one_error_line(run_cli("list-models", env={**env, "DIGITKIT_STRICT_PLUGINS": "1"}), EXIT_PLUGIN,
                          "digitkit-quitter", "called sys.exit")


@pytest.mark.slow
def test_a_plugin_that_hangs_at_import_is_skipped_after_the_time_limit(run_cli, plugin_path):
    env = plugin_path("digitkit-sloth", {"sloth": "sloth_mod:SPEC"}, {"sloth_mod": "while True:\n    pass\n"})
    started = time.monotonic()
    result = run_cli("list-models", env={**env, "DIGITKIT_PLUGIN_TIMEOUT": "1"}, timeout=60)
    assert time.monotonic() - started < 45  # finished at all: the hung import thread was abandoned
    _lists_the_zoo(result)
    assert "too slow to load" in _broken(run_cli, {**env, "DIGITKIT_PLUGIN_TIMEOUT": "1"})
    strict = run_cli("list-models", env={**env, "DIGITKIT_PLUGIN_TIMEOUT": "1", "DIGITKIT_STRICT_PLUGINS": "1"},
                     timeout=60)
    assert_one_error_line(strict, EXIT_PLUGIN, "too slow to load")


def test_a_plugin_raising_keyboard_interrupt_is_not_a_users_ctrl_c(run_cli, plugin_path):
    env = plugin_path("digitkit-ctrlc", {"ctrlc": "ctrlc_mod:SPEC"}, {"ctrlc_mod": "raise KeyboardInterrupt\n"})
    result = run_cli("list-models", env=env)
    _lists_the_zoo(result)
    assert "interrupted" not in result.stderr
    assert "raised KeyboardInterrupt" in _broken(run_cli, env)


def test_a_plugin_printing_at_import_cannot_break_json(run_cli, plugin_path):
    source = (SPEC_SOURCE + "print('hello from the plugin')\nimport sys\nsys.stderr.write('noise\\n')\n"
              "SPEC = make('chatty')\n")
    env = plugin_path("digitkit-chatty", {"chatty": "chatty_mod:SPEC"}, {"chatty_mod": source})
    result = run_cli("list-models", "--json", env=env)
    assert result.exit_code == EXIT_OK
    names = [m["name"] for m in json.loads(result.stdout)]  # stdout is pure JSON
    assert "chatty" in names and "hello" not in result.stdout + result.stderr and "noise" not in result.stderr
    debug = run_cli("--debug", "list-models", "--json", env=env)
    assert json.loads(debug.stdout) and "hello from the plugin" in debug.stderr
    assert_one_error_line(run_cli("list-models", env={**env, "DIGITKIT_STRICT_PLUGINS": "1"}), EXIT_PLUGIN,
                          "printed", "at import")


@pytest.mark.slow
def test_a_builder_returning_a_duck_typed_fake_is_refused(run_cli, plugin_path):
    source = SPEC_SOURCE + '''
class Fake:
    input_shape = (None, 784)
    output_shape = (None, 10)
    def count_params(self):
        return 7850

SPEC = make("fake", builder=Fake)
'''
    env = plugin_path("digitkit-fake", {"fake": "fake_mod:SPEC"}, {"fake_mod": source})
    assert_one_error_line(run_cli("show-model", "fake", env=env), EXIT_PLUGIN, "'fake'",
                          "did not return a built Keras model", "Fake")


@pytest.mark.slow
def test_fit_refuses_a_duck_typed_fake_before_training(run_cli, plugin_path, home):
    source = SPEC_SOURCE + "class Fake:\n    pass\nSPEC = make('fake', builder=Fake)\n"
    env = plugin_path("digitkit-fake", {"fake": "fake_mod:SPEC"}, {"fake_mod": source})
    result = run_cli("fit", "fake", "--epochs", "1", env={**env, "DIGITKIT_OFFLINE": "1"}, timeout=300)
    assert_one_error_line(result, EXIT_PLUGIN, "did not return a built Keras model")


def test_an_invalid_spec_is_refused_by_the_quick_checks(run_cli, plugin_path):
    source = SPEC_SOURCE + "SPEC = make('odd', num_classes=True)\n"
    env = plugin_path("digitkit-odd", {"odd": "odd_mod:SPEC"}, {"odd_mod": source})
    result = run_cli("list-models", env=env)
    _lists_the_zoo(result)
    assert "num_classes must be an int" in _broken(run_cli, env)


# --- what a thread cannot contain: a child process vets each new plugin first -----------------

@pytest.mark.parametrize("name, source, words", [
    ("exiter", "import os\nos._exit(0)\n", "ended the process while loading"),
    ("spinner", "import threading, time\nthreading.Thread(target=time.sleep, args=(3600,)).start()\n" + SPEC_SOURCE
     + "SPEC = make('spinner')\n", "non-daemon thread"),
    ("fdwriter", "import os\nos.write(1, b'{not json')\n" + SPEC_SOURCE + "SPEC = make('fdwriter')\n",
     "file descriptor 1/2"),
    ("swapper", "import io, sys\nsys.stdout = io.StringIO()\n" + SPEC_SOURCE + "SPEC = make('swapper')\n",
     "replaced sys.stdout"),
])
def test_a_plugin_cannot_end_hang_or_silence_list_models(run_cli, plugin_path, name, source, words):
    env = plugin_path(f"digitkit-{name}", {name: f"{name}_mod:SPEC"}, {f"{name}_mod": source})
    result = run_cli("list-models", "--json", env=env, timeout=90)  # a kept-alive process would time out
    assert result.exit_code == EXIT_OK, result.stderr
    names = [m["name"] for m in json.loads(result.stdout)]  # stdout is pure JSON
    assert "cnn" in names and name not in names
    assert words in _broken(run_cli, env)
    assert_one_error_line(run_cli("show-model", name, env=env), EXIT_PLUGIN, "broken plugin", words)


def test_predict_with_a_keras_file_survives_a_plugin_that_exits(run_cli, plugin_path):
    from pathlib import Path

    env = plugin_path("digitkit-exiter", {"exiter": "exiter_mod:SPEC"}, {"exiter_mod": "import os\nos._exit(0)\n"})
    image = Path(__file__).parents[1] / "fixtures" / "images" / "grey8.png"
    result = run_cli("predict", image, "--model", "25-15-10@pretrained", "--json", env=env)
    assert result.exit_code == EXIT_OK, result.stderr
    assert json.loads(result.stdout)["predictions"][0]["input"] == str(image)


@pytest.mark.parametrize("raised, words", [("SystemExit(3)", "its builder called sys.exit (3)"),
                                           ("KeyboardInterrupt", "raised KeyboardInterrupt (no Ctrl-C")])
def test_a_builder_exit_or_interrupt_is_a_plugin_problem(run_cli, plugin_path, raised, words):
    source = SPEC_SOURCE + f"def bad():\n    raise {raised}\nSPEC = make('rude', builder=bad)\n"
    env = plugin_path("digitkit-rude", {"rude": "rude_mod:SPEC"}, {"rude_mod": source})
    result = run_cli("show-model", "rude", env=env)
    assert_one_error_line(result, EXIT_PLUGIN, "'rude' failed to build", words)
    assert "interrupted" not in result.stderr


@pytest.mark.parametrize("value", ["-1", "0", "abc", "inf"])
def test_an_invalid_plugin_timeout_is_refused_in_one_line(run_cli, value):
    from digitkit.errors import EXIT_USAGE

    result = run_cli("list-models", env={"DIGITKIT_PLUGIN_TIMEOUT": value})
    line = assert_one_error_line(result, EXIT_USAGE, "DIGITKIT_PLUGIN_TIMEOUT must be seconds above 0", repr(value))
    assert len(line) <= 80
