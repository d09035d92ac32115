"""Bounded reading of a user's image: a path, ``-`` for stdin, or bytes.

Only regular files and stdin are read, and never more than the byte limit + 1, whatever the
file claims to be: ``st_size`` is 0 for FIFOs, devices and ``/proc`` files, so it is not
trusted. A path is opened with ``O_NONBLOCK`` (opening a FIFO that nobody writes to would
otherwise wait forever), and the kind of file is checked on the opened descriptor with
``fstat``, so a symlink swapped between a check and the open cannot slip a device past it.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import Union

from digitkit.errors import InputError

# Any phone photo (a 40 MP JPEG is ~15-25 MB) or a PNG of a page scanned at 600 dpi fits;
# the limit also caps what one input can make digitkit hold in memory before decoding.
MAX_FILE_BYTES = 64 * 1024 * 1024
STDIN = "-"
_CHUNK = 1024 * 1024
_SMALL_READ = 64 * 1024  # below glibc's mmap threshold: a cheap buffer for the read that sees EOF

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview]


def display_name(source: ImageSource) -> str:
    """The name to show for a source: the path (undecodable bytes as ``\\xNN``), ``<stdin>``, ``<bytes>``.

    Control characters are kept: :func:`digitkit.errors.printable` escapes them where the
    name is printed, so JSON output keeps the exact name.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    if isinstance(source, str) and source == STDIN:
        return "<stdin>"
    text = os.fspath(source)
    if isinstance(text, str) and text.isascii():
        return text  # what the round trip below gives, without it (called for every file of a batch)
    return os.fsencode(text).decode("utf-8", errors="backslashreplace")


def _too_big(name: str, limit: int) -> InputError:
    return InputError(f"{name} is larger than {_megabytes(limit)}; digitkit reads images up to {_megabytes(limit)}",
                      hint="crop or shrink it around the digit")


def _megabytes(count: int) -> str:
    return f"{count / (1024 * 1024):g} MB"


def _read_capped(read, limit: int, name: str, expected: int | None = None) -> bytes:
    """Call ``read(n)`` until EOF; refuse as soon as more than ``limit`` bytes arrived.

    ``expected``: the size the file claims (``fstat``). The first call asks for one byte
    more, so a file that tells the truth is read in one call, and the call that sees EOF
    asks for little: ``os.read(fd, n)`` allocates ``n`` bytes first, and two 1 MB buffers
    per small file were a tenth of a batch's CPU time.
    """
    chunks, total = [], 0
    want = _CHUNK if expected is None else min(expected + 1, _CHUNK)
    while True:
        chunk = read(min(want, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_big(name, limit)
        want = _CHUNK if len(chunk) == want else _SMALL_READ


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_path(path: str | os.PathLike, limit: int) -> bytes:
    name = display_name(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{name} does not exist") from None
    except PermissionError:
        raise InputError(f"{name} is not readable (permission denied)") from None
    except IsADirectoryError:
        raise InputError(f"{name} is a folder, not an image") from None
    except OSError as exc:
        raise InputError(f"{name} could not be opened: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if not stat.S_ISREG(mode):
            kind = _kind(mode)
            raise InputError(f"{name} is {kind}, not an image" if kind == "a folder"
                             else f"{name} is {kind}, not an image file; digitkit reads regular files only")
        return _read_capped(lambda n: os.read(fd, n), limit, name, expected=info.st_size)
    except OSError as exc:
        raise InputError(f"{name} could not be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _read_stdin(limit: int) -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a replaced text stdin (tests, embedding): its text as Latin-1 bytes
        text = sys.stdin.read(limit + 1) if sys.stdin is not None else ""
        data = text.encode("latin-1", "replace") if isinstance(text, str) else bytes(text)
        if len(data) > limit:
            raise _too_big("<stdin>", limit)
        return data
    try:
        return _read_capped(stream.read, limit, "<stdin>")
    except OSError as exc:
        raise InputError(f"<stdin> could not be read: {exc.strerror or exc}") from None


def read_bytes(source: ImageSource, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of one image, never more than ``limit``.

    Args:
        source: a path to a regular file (or a symlink to one), ``"-"`` for stdin, or bytes.
        limit: the most bytes accepted; one more is read to know the input is too large.

    Raises:
        InputError: missing, unreadable, not a regular file (folder, FIFO, device, socket),
            empty, or larger than ``limit``.
    """
    name = display_name(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > limit:
            raise _too_big(name, limit)
    elif isinstance(source, str) and source == STDIN:
        data = _read_stdin(limit)
    else:
        data = _read_path(source, limit)
    if not data:
        raise InputError(f"{name} is empty (0 bytes)")
    return data
