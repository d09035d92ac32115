"""The ``DIGITKIT_*`` environment variables, checked in one place before a command runs.

A value digitkit cannot read used to become a default without a word
(``DIGITKIT_PLUGIN_TIMEOUT=abc`` was 5 s, ``DIGITKIT_STRICT_PLUGINS=2`` was off,
``DIGITKIT_MIN_FREE_MB=lots`` was 200); now it is refused in one line (exit 2) naming the
variable, the value and what it takes. Light: no imports beyond the standard library.
"""

from __future__ import annotations

import os

from digitkit.errors import UsageError

TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")
FLAGS = ("DIGITKIT_OFFLINE", "DIGITKIT_STRICT_PLUGINS", "DIGITKIT_DEBUG")


def _refuse(name: str, raw: str, expected: str) -> UsageError:
    return UsageError(f"{name} must be {expected}, not {raw[:30]!r}")  # one line, under 80 columns


def flag(name: str) -> bool:
    """A yes/no variable: ``1/true/yes/on`` or ``0/false/no/off`` (or unset)."""
    raw = os.environ.get(name, "").strip().lower()
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise _refuse(name, os.environ.get(name, ""), "1 or 0")  # true/false, yes/no, on/off also read


def whole_number(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole-number variable (``_`` allowed as a digit separator), at least ``minimum``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise _refuse(name, raw, f"a whole number >= {minimum}")
    return value


def check_all() -> None:
    """Refuse the first ``DIGITKIT_*`` variable holding a value digitkit cannot read.

    Raises:
        UsageError: naming the variable, its value and what it takes.
    """
    for name in FLAGS:
        flag(name)
    whole_number("DIGITKIT_MIN_FREE_MB", 0)
    # Their readers live with their users; imported only when set (predict's start-up stays light).
    if os.environ.get("DIGITKIT_MAX_PARAMS", "").strip():
        from digitkit.modelfiles.weights import max_params

        max_params()
    if os.environ.get("DIGITKIT_PLUGIN_TIMEOUT", "").strip():
        from digitkit.plugins.registry import _timeout

        _timeout()
