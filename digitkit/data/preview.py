"""What ``digitkit preview`` shows: picked dataset digits, image files next to the digit a
model receives, and per-class counts. Pure data; rendering is in :mod:`digitkit.render.digits`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitkit.errors import InputError, UsageError

MAX_COUNT = 1_000
ORIGINAL_MAX_SIDE = 56  # the "as given" view is shrunk to at most this many pixels a side


@dataclass(frozen=True)
class DigitSelection:
    """Digits picked from a dataset split, with their positions in that split."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    dataset: str
    split: str
    source: str
    total: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClassCounts:
    counts: tuple[int, ...]
    dataset: str
    split: str
    source: str
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class FileView:
    """One image file: as given (grey, shrunk) and as the model receives it (28x28)."""

    path: str
    original: np.ndarray | None
    digit: np.ndarray | None
    size: tuple[int, int] | None = None
    error: str | None = None
    notes: tuple[str, ...] = field(default=())


def select_digits(dataset: str | None = None, split: str = "train", *, count: int = 16,
                  label: int | None = None, index: int | None = None, data_dir=None) -> DigitSelection:
    """Digits of a split: from ``index`` on (default 0), only ``label`` if given, ``count`` at most.

    Raises:
        UsageError: count, label or index out of range.
    """
    from digitkit.data import load_digits

    if not 1 <= count <= MAX_COUNT:
        raise UsageError(f"expected 1 <= count <= {MAX_COUNT}. Received: count={count}")
    if label is not None and not 0 <= label <= 9:
        raise UsageError(f"expected a label from 0 to 9. Received: label={label}")
    digits = load_digits(dataset, split, data_dir=data_dir)
    start = 0 if index is None else index
    if not 0 <= start < len(digits):
        raise UsageError(f"expected 0 <= index < {len(digits)} ({digits.dataset} {split}). Received: index={index}")
    positions = np.arange(start, len(digits))
    if label is not None:
        positions = positions[digits.labels[start:] == label]
    positions = positions[:count]
    notes = digits.notes
    if label is not None and not len(positions):
        notes += (f"no digit labelled {label} in {digits.dataset} {split} from index {start}",)
    return DigitSelection(digits.images[positions], digits.labels[positions], positions, digits.dataset,
                          split, digits.source, len(digits), notes)


def class_counts(dataset: str | None = None, split: str = "train", *, data_dir=None) -> ClassCounts:
    """How many digits of each class a split holds."""
    from digitkit.data import load_digits

    digits = load_digits(dataset, split, data_dir=data_dir)
    counts = np.bincount(digits.labels, minlength=10)[:10]
    return ClassCounts(tuple(int(c) for c in counts), digits.dataset, split, digits.source, digits.notes)


def _original(path: Path) -> tuple[np.ndarray, tuple[int, int]]:
    """The image's grey levels, shrunk to fit the terminal view."""
    from PIL import Image

    try:
        from digitkit.images import load_grey  # same decoding as prediction, where available
        grey = np.asarray(load_grey(path), dtype=np.float32)
    except ImportError:
        try:
            with Image.open(path) as image:
                grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise InputError(f"{path} is not a readable image ({exc})") from None
    size = (grey.shape[1], grey.shape[0])
    scale = ORIGINAL_MAX_SIDE / max(grey.shape)
    if scale < 1:
        shrunk = Image.fromarray(grey, mode="F").resize(
            (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale))), Image.Resampling.BOX)
        grey = np.asarray(shrunk)
    return np.clip(grey, 0.0, 1.0), size


def view_file(path: str | Path) -> FileView:
    """One image file, as given and as preprocessed for a model.

    Raises:
        InputError: the path does not exist or is a folder.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not an image", hint="use --dataset for a folder of digits")
    try:
        original, size = _original(path)
    except InputError as exc:
        return FileView(str(path), None, None, error=exc.message)
    try:
        from digitkit.images import load_digit
    except ImportError:
        note = "the 28x28 model input needs digitkit.images, which this installation lacks"
        return FileView(str(path), original, None, size, notes=(note,))
    try:
        digit = np.asarray(load_digit(path), dtype=np.float32)
    except InputError as exc:
        return FileView(str(path), original, None, size, error=exc.message)
    return FileView(str(path), original, digit, size)
