"""A folder of the user's own digit images: ``<root>/<label>/<files>``.

Each file goes through :func:`digitkit.intake.read_digit`, the same bounded reading and
preprocessing prediction uses, so a model trained here sees digits as ``predict`` will
show them. With ``train/`` and ``test/`` under the root, those are the splits; otherwise
every fifth file of each class (in name order) is held out as the test split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitkit.errors import InputError

LABELS = tuple(str(d) for d in range(10))
HOLDOUT_EVERY = 5  # without train/ and test/, files 5, 10, 15... of each class are test


@dataclass(frozen=True)
class FolderSplit:
    images: np.ndarray
    labels: np.ndarray
    notes: tuple[str, ...]


def _label_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name in LABELS)


def is_image_folder(root: Path) -> bool:
    """Whether ``root`` looks like ``<root>/<digit>/...`` or ``<root>/train/<digit>/...``."""
    if not root.is_dir():
        return False
    if _label_dirs(root):
        return True
    return (root / "train").is_dir() and bool(_label_dirs(root / "train"))


def ignored_folders(folder: Path) -> list[str]:
    """Sub-folders that are not a digit label (``seven``, ``10``, ``-1``...), in name order."""
    skip = {*LABELS, "train", "test"}
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in skip and not p.name.startswith("."))


def _files(label_dir: Path) -> list[Path]:
    return sorted(p for p in label_dir.iterdir() if p.is_file() and not p.name.startswith("."))


def list_split(root: Path, split: str) -> tuple[list[tuple[Path, int]], str | None]:
    """(file, label) pairs of ``split`` and a note on how the split was made, if any."""
    if (root / "train").is_dir():
        folder = root / split
        if not folder.is_dir():
            raise InputError(f"{root} has train/ but no {split}/ folder", hint=f"add {folder} with one folder per digit")
        return [(f, int(d.name)) for d in _label_dirs(folder) for f in _files(d)], None
    pairs = []
    for label_dir in _label_dirs(root):
        for position, path in enumerate(_files(label_dir), start=1):
            is_test = position % HOLDOUT_EVERY == 0
            if is_test == (split == "test"):
                pairs.append((path, int(label_dir.name)))
    return pairs, f"{root} has no train/ and test/ folders: every {HOLDOUT_EVERY}th image of each digit is the test split"


def load_split(root: Path, split: str) -> FolderSplit:
    """Load and preprocess every image of one split.

    Unreadable files are skipped and counted in a note; a split with no readable image
    raises :class:`InputError`.
    """
    from digitkit.intake import read_digit  # lazily: Pillow lives there

    pairs, how = list_split(root, split)
    if not pairs:
        raise InputError(f"no images for the {split} split in {root}",
                         hint="put image files in folders named 0 to 9 (optionally under train/ and test/)")
    images, labels, failures = [], [], []
    for path, label in pairs:
        try:
            digit = np.asarray(read_digit(path), dtype=np.float32)
        except InputError as exc:
            failures.append(f"{path.name}: {exc.message}")
            continue
        images.append(np.clip(np.rint(digit * 255.0), 0, 255).astype(np.uint8))
        labels.append(label)
    if not images:
        raise InputError(f"none of the {len(pairs)} {split} images in {root} could be read ({failures[0]})")
    notes = [how] if how else []
    folder = root / split if (root / "train").is_dir() else root
    ignored = ignored_folders(folder)
    if ignored:
        shown = ", ".join(ignored[:8]) + (f" and {len(ignored) - 8} more" if len(ignored) > 8 else "")
        notes.append(f"ignored sub-folders of {folder} not named 0-9: {shown}")
    classes = sorted(set(labels))
    if len(classes) == 1:
        notes.append(f"warning: the {split} images of {root} are all one digit ({classes[0]}); "
                     "a model trained on one class only ever predicts it")
    if failures:
        notes.append(f"skipped {len(failures)} unreadable image(s) in {root}, first: {failures[0]}")
    return FolderSplit(np.stack(images), np.asarray(labels, dtype=np.int64), tuple(notes))
