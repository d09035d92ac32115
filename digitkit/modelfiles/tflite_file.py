"""Whether a ``.tflite`` file may be handed to the LiteRT runtime at all.

The runtime parses the FlatBuffer itself; what digitkit checks first is what the runtime
does not: the path is a regular, non-empty file under a size cap, and it starts like a
LiteRT model (the ``TFL3`` file identifier), so a renamed picture or a truncated download is
refused in one line before native code sees it. The model's signature (one float input of a
digit's shape, ten scores out) is checked after loading, in :mod:`digitkit.inference.litert_backend`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from digitkit.errors import ModelRefusedError, printable

MAX_TFLITE_BYTES = 512 << 20
# FlatBuffers put a 4-byte file identifier after the 4-byte root offset.
IDENTIFIER = b"TFL3"


def check_tflite(path: str | Path) -> Path:
    """Refuse a file that cannot be a LiteRT digit model, saying why; returns the path.

    Raises:
        ModelRefusedError: missing, not a regular file, empty, over :data:`MAX_TFLITE_BYTES`,
            or not a LiteRT FlatBuffer.
    """
    path = Path(path)
    where = printable(path.name)
    try:
        info = os.stat(path)
    except OSError:
        raise ModelRefusedError(f"{printable(str(path))} is missing or unreadable") from None
    if not stat.S_ISREG(info.st_mode):
        raise ModelRefusedError(f"{printable(str(path))} is not a regular file")
    if info.st_size == 0:
        raise ModelRefusedError(f"{printable(str(path))} is missing or empty")
    if info.st_size > MAX_TFLITE_BYTES:
        raise ModelRefusedError(f"{where} is {info.st_size >> 20:,} MiB, over digitkit's "
                                f"{MAX_TFLITE_BYTES >> 20} MiB limit for a digit model: refused")
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise ModelRefusedError(f"{where} cannot be read: {printable(exc.strerror or str(exc))}") from None
    if len(head) < 8 or head[4:8] != IDENTIFIER:
        raise ModelRefusedError(f"{where} is not a LiteRT model (no {IDENTIFIER.decode()} identifier): refused")
    return path
