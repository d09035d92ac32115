"""SHA-256 of a file, read in bounded chunks: the digests runs record and shipped weights' cards carry."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


def sha256(path: Path) -> str:
    """``"sha256:<hex>"`` of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()
