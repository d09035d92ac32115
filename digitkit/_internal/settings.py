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
    max_params()
    plugin_timeout()


MAX_PARAMS_ENV = "DIGITKIT_MAX_PARAMS"
DEFAULT_MAX_PARAMS = 50_000_000
PLUGIN_TIMEOUT_ENV = "DIGITKIT_PLUGIN_TIMEOUT"
DEFAULT_PLUGIN_TIMEOUT_S = 5.0


def max_params() -> int:
    """The model-file gate's parameter cap: ``$DIGITKIT_MAX_PARAMS`` or 50 M."""
    raw = os.environ.get(MAX_PARAMS_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_MAX_PARAMS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"expected {MAX_PARAMS_ENV} to be a positive integer. Received: {raw[:30]!r}")
    return value


def plugin_timeout() -> float:
    """``DIGITKIT_PLUGIN_TIMEOUT`` in seconds; a value that is not a positive number is refused
    (``-1``, ``0`` and ``abc`` used to become 5 s without a word)."""
    raw = os.environ.get(PLUGIN_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_PLUGIN_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise UsageError(f"{PLUGIN_TIMEOUT_ENV} must be seconds above 0, not {raw[:30]!r}")
    return value
