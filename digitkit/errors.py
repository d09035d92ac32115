"""One error type for everything a user can get wrong, and the exit codes it maps to.

The library raises these; the CLI catches them once (``digitkit.cli.app``) and prints one
line. Anything else that escapes is a bug and shows a traceback.
"""

from __future__ import annotations

import re

# Documented in docs/reliability.md; keep the two in step.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_MODEL_REFUSED = 4
EXIT_PLUGIN = 5
EXIT_UNAVAILABLE = 6
EXIT_PARTIAL = 7
EXIT_NOT_SURE = 8
EXIT_INTERRUPTED = 130


# C0 controls, DEL and C1 controls: ESC starts terminal sequences (title, clear screen,
# hyperlinks), and U+009B (CSI) does the same on terminals that honour C1.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """Show C0/C1 control characters as ``\\x1b``, ``\\n``... so they cannot drive a terminal."""
    return (_CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL).sub(_escaped, text)


def printable(text: str) -> str:
    """``text`` (a file name, a note, a plugin name) safe to write to any terminal or pipe.

    Control characters are escaped (``"\\x1b]0;owned\\x07.png"`` is shown as
    ``\\x1b]0;owned\\x07.png``, literally). A file name that is not valid UTF-8 reaches Python
    as lone surrogates (``b"\\xff.keras"`` -> ``"\\udcff.keras"``); writing those to a UTF-8
    stream raises UnicodeEncodeError. They are shown as ``\\xff`` instead. JSON output uses
    the exact text, never this.
    """
    text = str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape" if _only_escapes(text) else "backslashreplace").decode(
            "utf-8", "backslashreplace")
    return escape_controls(text)


def _only_escapes(text: str) -> bool:
    # surrogateescape can encode only U+DC80..U+DCFF (the bytes os.fsdecode could not decode)
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in text)


class DigitkitError(Exception):
    """Base of every error digitkit reports to a user.

    Args:
        message: one line saying what went wrong.
        hint: optional one line saying what to do about it.
    """

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        message = printable(message)
        hint = printable(hint) if hint is not None else None
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(DigitkitError):
    """Options that cannot work together, an unknown model, dataset or run name."""

    exit_code = EXIT_USAGE


class UnknownModelError(UsageError):
    """No installed plugin, run or file answers to the name the user gave."""


class InputError(DigitkitError):
    """An image, dataset or file the user gave cannot be read or is not what it claims."""

    exit_code = EXIT_BAD_INPUT


class ModelRefusedError(DigitkitError):
    """A model file that is missing, corrupt, of the wrong kind, or unsafe to load."""

    exit_code = EXIT_MODEL_REFUSED


class PluginError(DigitkitError):
    """A plugin that fails to import, yields an invalid spec, or builds the wrong model."""

    exit_code = EXIT_PLUGIN


class UnavailableError(DigitkitError):
    """Something needed is not here: a GPU, the network, a runtime."""

    exit_code = EXIT_UNAVAILABLE


class PartialFailure(DigitkitError):
    """Some inputs of a batch failed while the rest succeeded."""

    exit_code = EXIT_PARTIAL


class Interrupted(DigitkitError):
    """The user pressed Ctrl-C or the process got SIGTERM; state was kept where possible."""

    exit_code = EXIT_INTERRUPTED


class NotSure(DigitkitError):
    """``--strict``: some answers were ``unsure`` or ``not-a-digit``, so a person must look."""

    exit_code = EXIT_NOT_SURE
