"""Reading MNIST's IDX files (optionally gzipped); the header's count rules, so subsets work."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from digitkit.errors import InputError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into an array shaped as its header says.

    Raises:
        InputError: the file is missing, truncated or not IDX.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist") from exc
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path} is not a readable IDX file: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise InputError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header_end = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header_end:
        raise InputError(f"{path} has a truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header_end])
    dtype = np.dtype(_DTYPES[raw[2]])
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header_end < count * dtype.itemsize:
        raise InputError(
            f"{path} is truncated: header says {shape[0]} items, the file holds fewer"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header_end)
    return data.reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def find_idx_files(folder: str | Path, split: str) -> tuple[Path, Path] | None:
    """The (images, labels) IDX files of ``split`` in ``folder``, or ``None`` if absent.

    Accepts MNIST's names (``train-images-idx3-ubyte[.gz]``, ``t10k-...``), ``test-...``,
    and subsets named like ``train-24k-images-idx3-ubyte.gz``.
    """
    folder = Path(folder)
    prefixes = ("train",) if split == "train" else ("t10k", "test")
    found = []
    for kind in ("images", "labels"):
        matches = sorted(
            path for prefix in prefixes for path in folder.glob(f"{prefix}*-{kind}-idx*")
            if path.is_file() and not path.name.startswith(".")
        )
        if not matches:
            return None
        # Prefer the plain MNIST name over subsets and .gz over raw, for a stable choice.
        matches.sort(key=lambda p: (len(p.name.split("-")), p.suffix != ".gz", p.name))
        found.append(matches[0])
    return found[0], found[1]


def has_idx_files(folder: str | Path) -> bool:
    """Whether ``folder`` holds at least the training IDX pair."""
    return find_idx_files(folder, "train") is not None


def read_idx_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split; counts come from the IDX headers."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise InputError(f"{images_path} holds images of shape {images.shape[1:]}, expected 28x28")
    if labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise InputError(f"{images_path} has {images.shape[0]} images but {labels_path} has {labels.shape[0]} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise InputError(f"{labels_path} holds labels outside 0-9")
    return images.astype(np.uint8, copy=False), labels.astype(np.int64)
