"""The data layer: every command that needs digits gets them here.

``load_digits`` returns a split as uint8 arrays (N x 28 x 28, MNIST-style: white ink on
black); :mod:`digitkit.data.adapt` shapes them for a model's declared input. What a ``--dataset``
string means is decided by :func:`digitkit.data.resolve.resolve_dataset` alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from digitkit import home
from digitkit.errors import InputError, UnavailableError, UsageError

SAMPLE_DIR = Path(__file__).parent / "sample"
from digitkit.data.resolve import DEFAULT_DATASET, SAMPLE_NAME, DatasetRef, resolve_dataset

Status = Callable[[str], None]
SPLITS = ("train", "test")


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


def _load_sample(split: str, dataset: str, notes: tuple[str, ...] = ()) -> Digits:
    from digitkit.data.idx import find_idx_files, read_idx_pair

    images, labels = read_idx_pair(*find_idx_files(SAMPLE_DIR, split))
    source = "bundled MNIST sample" + (" (fallback)" if notes else "")
    return Digits(images, labels, dataset, split, source, notes)


def _fallback_note(split: str, reason: str, data_dir: Path) -> str:
    count = 6_000 if split == "train" else 1_000
    # One line under 80 columns with its "note: " (it used to be three, folded mid-word): the
    # reason and the way to the full set are in `digitkit datasets` and docs/data.md.
    # A failed download or a damaged copy keeps its reason: rarer, and the reason is the news.
    if "OFFLINE" in reason or reason.startswith("cannot reach"):
        return f"offline: using the bundled sample ({count:,} {split} digits), not full MNIST"
    return f"full MNIST unavailable ({reason}): using the bundled sample ({count:,} {split} digits)"


def _load_tfds(name: str, split: str, data_dir: Path, status: Status | None = None) -> Digits:
    try:
        from digitkit.data import tfds_source
    except ImportError as exc:  # pragma: no cover - tensorflow-datasets is a dependency
        raise UnavailableError(f"tensorflow-datasets is not installed ({exc})",
                               hint="pip install tensorflow-datasets") from exc
    builder = tfds_source.prepare(name, data_dir, status=status)
    images, labels = tfds_source.read_split(builder, name, split)
    return Digits(images, labels, name, split, f"tensorflow-datasets {builder.info.full_name} in {data_dir}")


def _load_default(split: str, data_dir: Path, status: Status | None = None) -> Digits:
    """Full MNIST through tfds; the bundled sample, with a note saying so, when it cannot be had."""
    try:
        return _load_tfds(DEFAULT_DATASET, split, data_dir, status)
    except (UnavailableError, InputError) as exc:
        note = _fallback_note(split, getattr(exc, "reason", exc.message), data_dir)
        if exc.hint and "rebuild" in exc.hint:
            note += f"; {exc.hint}"
        return _load_sample(split, DEFAULT_DATASET, (note,))


def _load_path(folder: Path, name: str, split: str, data_dir: Path, status: Status | None = None) -> Digits:
    from digitkit.data.folder import is_image_folder, load_split
    from digitkit.data.idx import has_idx_files

    if not folder.exists():
        raise InputError(f"dataset folder {folder} does not exist", hint="see `digitkit datasets`")
    if not folder.is_dir():
        raise InputError(f"{folder} is a file; expected a folder of MNIST IDX files or of digit folders 0-9")
    if has_idx_files(folder):
        from digitkit.data import local_idx, tfds_source

        builder = local_idx.prepare(folder, data_dir, status=status)
        images, labels = tfds_source.read_split(builder, name, split)
        return Digits(images, labels, name, split, f"IDX files in {folder} (prepared in {builder.data_dir})")
    if is_image_folder(folder):
        loaded = load_split(folder, split)
        return Digits(loaded.images, loaded.labels, name, split, f"image folder {folder}", loaded.notes)
    what = "is empty" if not any(folder.iterdir()) else "holds neither MNIST IDX files nor folders named 0-9"
    raise InputError(f"dataset folder {folder} {what}",
                     hint="use train-images-idx3-ubyte.gz & co., or <folder>/<digit>/<image files>")


def load_digits(dataset: str | DatasetRef | None = None, split: str = "train", *, data_dir: str | Path | None = None,
                status: Status | None = None) -> Digits:
    """Load one split of a dataset, MNIST-style (uint8 N x 28 x 28, white ink on black).

    Args:
        dataset: ``None`` for the default (full MNIST through tensorflow-datasets, falling
            back to the bundled sample with a note when it cannot be downloaded);
            ``"sample"`` for the bundled sample; a tensorflow-datasets name (``mnist``,
            ``mnist_corrupted/<corruption>``, ``emnist/digits``, ``svhn_cropped``); or a
            folder holding MNIST IDX files or image files in folders named 0-9; or what
            :func:`~digitkit.data.resolve.resolve_dataset` made of one.
        split: ``"train"`` or ``"test"``.
        data_dir: where tensorflow-datasets keeps prepared datasets (default: the ``data``
            folder of the digitkit home).
        status: called with a one-line message before slow work (a download, preparing
            IDX files once); the library itself never prints.

    Raises:
        UsageError: unknown split or dataset name.
        InputError: a folder that does not exist or holds no usable digits, or a damaged
            prepared dataset (the message says how to rebuild it).
        UnavailableError: a dataset named explicitly that cannot be downloaded.
    """
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}", hint="use 'train' or 'test'")
    ref = dataset if isinstance(dataset, DatasetRef) else resolve_dataset(dataset)
    data_dir = Path(data_dir).expanduser() if data_dir is not None else home.data_dir()
    if ref.kind == "sample":
        return _load_sample(split, SAMPLE_NAME)
    if ref.kind == "default":
        return _load_default(split, data_dir, status)
    if ref.kind == "tfds":
        return _load_tfds(ref.name, split, data_dir, status)
    return _load_path(ref.path, ref.name, split, data_dir, status)
