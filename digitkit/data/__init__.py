"""The data layer: every command that needs digits gets them here.

``load_digits`` returns a split as uint8 arrays (N x 28 x 28, MNIST-style: white ink on
black); :mod:`digitkit.data.adapt` shapes them for a model's declared input, and
:mod:`digitkit.data.pipeline` turns them into ``tf.data`` pipelines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitkit.errors import UsageError

SAMPLE_DIR = Path(__file__).parent / "sample"
SAMPLE_NAME = "sample"
DEFAULT_DATASET = "mnist"


@dataclass(frozen=True)
class Digits:
    """One split of a digit dataset, in memory.

    Attributes:
        images: uint8 array, N x 28 x 28, white ink on black.
        labels: int64 array of N class indices.
        dataset: the name the user gave (or the default).
        split: ``"train"`` or ``"test"``.
        source: where the digits really came from (e.g. ``"bundled sample"``).
        notes: lines worth showing the user (e.g. a fallback happened).
    """

    images: np.ndarray
    labels: np.ndarray
    dataset: str
    split: str
    source: str
    notes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def fingerprint(self) -> str:
        """Short content hash, recorded in run manifests."""
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.images).tobytes())
        digest.update(np.ascontiguousarray(self.labels).astype(np.int64).tobytes())
        return digest.hexdigest()[:16]


def _load_idx_folder(folder: Path, split: str, dataset: str, source: str) -> Digits:
    from digitkit.data.idx import read_idx

    prefix = "train" if split == "train" else "t10k"
    candidates = {
        "images": [f"{split}-images-idx3-ubyte.gz", f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-images-idx3-ubyte"],
        "labels": [f"{split}-labels-idx1-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz", f"{prefix}-labels-idx1-ubyte"],
    }
    found = {}
    for kind, names in candidates.items():
        matches = [folder / n for n in names if (folder / n).exists()]
        if not matches:  # also accept subsets such as train-24k-images-idx3-ubyte.gz
            matches = sorted(folder.glob(f"{prefix}*-{kind}-idx*"))
        if not matches:
            raise UsageError(f"no {split} {kind} IDX file in {folder}")
        found[kind] = read_idx(matches[0])
    images, labels = found["images"], found["labels"].astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise UsageError(f"{folder}: {images.shape[0]} {split} images but {labels.shape[0]} labels")
    return Digits(images, labels, dataset, split, source)


def load_digits(dataset: str | None = None, split: str = "train") -> Digits:
    """Load one split of a dataset by name.

    Args:
        dataset: ``None`` for the default (``mnist``), ``"sample"`` for the bundled sample, or
            a folder of MNIST IDX files.
        split: ``"train"`` or ``"test"``.
    """
    if split not in ("train", "test"):
        raise UsageError(f"unknown split {split!r}", hint="use 'train' or 'test'")
    name = dataset or DEFAULT_DATASET
    if name == SAMPLE_NAME or dataset is None:
        return _load_idx_folder(SAMPLE_DIR, split, name, "bundled MNIST sample")
    folder = Path(name).expanduser()
    if folder.is_dir():
        return _load_idx_folder(folder, split, name, f"IDX files in {folder}")
    raise UsageError(f"unknown dataset {name!r}", hint="see `digitkit datasets`")
