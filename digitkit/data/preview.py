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


def _as_given(grey: np.ndarray) -> np.ndarray:
    """The image's grey levels, shrunk to fit the terminal view."""
    from PIL import Image

    scale = ORIGINAL_MAX_SIDE / max(grey.shape)
    if scale < 1:
        shrunk = Image.fromarray(np.ascontiguousarray(grey, np.float32), mode="F").resize(
            (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale))), Image.Resampling.BOX)
        grey = np.asarray(shrunk)
    return np.clip(grey, 0.0, 1.0)


def view_file(path: str | Path) -> FileView:
    """One image file, as given and as preprocessed for a model; read once, through the intake.

    A missing file, a folder, a FIFO or a device gives a view with ``error`` set, like any
    unreadable image, so the other files are still shown.
    """
    from digitkit.intake import decode, display_name, read_bytes, to_digit, to_grey
    from digitkit.intake.decoding import ORIGINAL_SIZE

    name = display_name(path)
    path = Path(path)
    if path.is_dir():
        return FileView(name, None, None, error=f"{name} is a folder, not an image (use --dataset for a folder "
                                                "of digits)")
    try:
        image = decode(read_bytes(path), name)
        grey = np.asarray(to_grey(image), dtype=np.float32)
    except InputError as exc:
        return FileView(name, None, None, error=exc.message)
    size = tuple(image.info.get(ORIGINAL_SIZE, image.size))
    try:
        digit = np.asarray(to_digit(grey), dtype=np.float32)
    except InputError as exc:
        return FileView(name, _as_given(grey), None, size, error=f"{name}: {exc.message}")
    return FileView(name, _as_given(grey), digit, size)
