"""Keep etils' lazy imports (used by tensorflow-datasets) to the thread that asked for them.

``etils.epy.lazy_imports()`` swaps ``builtins.__import__`` for the whole process while
tensorflow-datasets imports itself (and later modules). Every ``import`` statement in every
thread goes through ``builtins.__import__``, even for a module already loaded: rich's
spinner thread, redrawing during that window, ran a function-level ``from .text import
Text`` through etils' hook and died with ``ValueError: Relative import statements not
supported (text)`` and a 30-line traceback in a run that succeeded (about one ``fit`` in
eight on a terminal). Loading modules ahead (the earlier fix) cannot help: the statement
itself calls the hook.

:func:`contain` gives etils a stand-in for the ``builtins`` module: its ``__import__``
assignments become a per-thread hook, and the process-wide ``builtins.__import__`` is a
dispatcher only while some thread holds one.
"""

from __future__ import annotations

import builtins
import threading
from typing import Any, Callable

_ORIGINAL: Callable[..., Any] = builtins.__import__
_local = threading.local()
_lock = threading.Lock()
_holders = 0  # threads whose hook is set; the dispatcher is installed while > 0


def _dispatch(name, globals=None, locals=None, fromlist=(), level=0):  # builtins.__import__ signature
    hook = getattr(_local, "hook", None)
    return (hook or _ORIGINAL)(name, globals, locals, fromlist, level)


def _set_hook(hook: Callable[..., Any] | None) -> None:
    global _holders
    if hook is _dispatch or hook is _ORIGINAL:
        hook = None  # etils restoring what it read
    with _lock:
        before = getattr(_local, "hook", None)
        _local.hook = hook
        _holders += (hook is not None) - (before is not None)
        builtins.__import__ = _dispatch if _holders else _ORIGINAL


class _ThreadBuiltins:
    """What etils sees as ``builtins``: ``__import__`` is this thread's, the rest is shared."""

    def __getattr__(self, name: str) -> Any:
        if name == "__import__":
            return getattr(_local, "hook", None) or _ORIGINAL
        return getattr(builtins, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "__import__":
            _set_hook(value)
        else:
            setattr(builtins, name, value)


def contain() -> None:
    """Make etils' import swap per-thread; call before importing tensorflow_datasets.

    Does nothing when etils is not installed or no longer has the attribute it patches.
    """
    try:
        from etils.epy import lazy_imports_utils
    except ImportError:  # pragma: no cover - tfds always brings etils
        return
    if getattr(lazy_imports_utils, "builtins", None) is builtins:
        lazy_imports_utils.builtins = _ThreadBuiltins()
