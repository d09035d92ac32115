"""etils' lazy imports (tensorflow-datasets) stay in their thread: a spinner redrawing meanwhile lives."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Run in a fresh interpreter: the containment patches etils for the rest of the process.
RACE = textwrap.dedent("""
    import builtins, sys, threading
    original = builtins.__import__
    {setup}
    from etils import epy

    errors = []

    def spinner_redraw():  # what rich's refresh thread does: a function-level relative import
        try:
            exec("from .text import Text", {{"__name__": "rich.live", "__package__": "rich"}})
        except Exception as exc:
            errors.append(repr(exc))

    with epy.lazy_imports():  # as tensorflow_datasets/__init__.py does while it imports itself
        thread = threading.Thread(target=spinner_redraw)
        thread.start()
        thread.join()
        import json_in_the_lazy_thread  # the importing thread still gets etils' lazy module
    print(errors, builtins.__import__ is original, type(json_in_the_lazy_thread).__name__)
""")


def _run(setup: str) -> str:
    code = RACE.format(setup=setup)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_without_containment_the_other_thread_fails():
    # The failure this module exists for (a traceback in ~1 fit in 8 on a terminal).
    assert "Relative import statements not supported" in _run("")


def test_contained_the_other_thread_imports_normally_and_the_hook_is_given_back():
    out = _run("from digitkit._internal import thread_imports; thread_imports.contain()")
    assert out == "[] True LazyModule", out
