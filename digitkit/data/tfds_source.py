"""Digit datasets from tensorflow-datasets, prepared once into the digitkit data folder.

Every tfds call goes through here so that (1) a download is only attempted after a quick
reachability check, (2) a damaged prepared folder is reported with a way to rebuild it, and
(3) every dataset comes back MNIST-style: uint8 N x 28 x 28, white ink on black.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from pathlib import Path

import numpy as np

from digitkit.data.network import download_host, unreachable_reason
from digitkit.errors import InputError, UnavailableError, UsageError

# Digit datasets digitkit knows how to adapt; values describe them for `digitkit datasets`.
FAMILIES = {
    "mnist": "MNIST handwritten digits (60,000 train / 10,000 test)",
    "mnist_corrupted": "MNIST-C: MNIST with one of 15 corruptions, e.g. mnist_corrupted/shot_noise",
    "emnist": "EMNIST digits (use emnist/digits or emnist/mnist), images transposed on load",
    "svhn_cropped": "Street View House Numbers, 32x32 colour, converted to 28x28 grey",
}
# tfds only prepares what is asked; these are the names `digitkit datasets` lists.
LISTED = ("mnist", "mnist_corrupted/shot_noise", "emnist/digits", "svhn_cropped")
SPLITS = ("train", "test")
DECODE_BATCH = 4096


def import_tfds():
    """``tensorflow_datasets``, imported with its lazy imports kept to this thread (a spinner
    redrawing meanwhile would die on etils' import hook: see digitkit._internal.thread_imports)."""
    from digitkit._internal import thread_imports

    thread_imports.contain()
    import tensorflow_datasets

    return tensorflow_datasets


def is_tfds_name(name: str) -> bool:
    """Whether ``name`` (``family`` or ``family/config``) is a digit dataset digitkit adapts."""
    return name.split("/")[0].split(":")[0] in FAMILIES


class DamagedDatasetError(InputError):
    """A prepared dataset folder that cannot be read back."""


class DownloadUnavailableError(UnavailableError):
    """A dataset that is not prepared and cannot be downloaded now; ``reason`` says why."""

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


def rebuild_hint(name: str, folder: Path) -> str:
    return f"rebuild it with `digitkit datasets --rebuild {name}`, or delete {folder}"


def builder_for(name: str, data_dir: Path):
    """The tfds builder of ``name`` storing under ``data_dir`` (no download happens here)."""
    tfds = import_tfds()

    try:
        with quiet_absl():
            return tfds.builder(name, data_dir=str(data_dir))
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        if isinstance(exc, tfds.core.registered.DatasetNotFoundError) or "BuilderConfig" in str(exc):
            detail = _first_line(exc).split(": ", 1)[-1] if "BuilderConfig" in str(exc) else "unknown name"
            raise UsageError(f"tensorflow-datasets has no dataset {name!r}: {detail}",
                             hint="see `digitkit datasets`") from exc
        # Anything else means the prepared files are unreadable (dataset_info.json...).
        folder = Path(data_dir) / name.split("/")[0]
        raise DamagedDatasetError(f"prepared dataset {name} in {folder} is damaged: {_first_line(exc)}",
                                  hint=rebuild_hint(name, folder)) from exc


@contextlib.contextmanager
def quiet_absl():
    """Hide tfds' absl warnings (e.g. "Variant folder ... has no dataset_info.json" for every
    dataset not prepared yet): digitkit reports those states itself."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def is_prepared(builder) -> bool:
    with quiet_absl():
        return builder.is_prepared()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__


def prepare(name: str, data_dir: Path, *, force: bool = False, status=None):
    """Download and prepare ``name`` unless it already is; returns its builder.

    ``status`` (a callable taking one line) hears about the download before it starts;
    tfds' own lines and progress bars are kept off the terminal.

    Raises:
        UnavailableError: the download host cannot be reached, or the download failed.
    """
    if force:
        remove_prepared(Path(data_dir), name)
    builder = builder_for(name, data_dir)
    if is_prepared(builder):
        return builder
    reason = unreachable_reason(*download_host(name))
    if reason:
        raise DownloadUnavailableError(
            f"{name} is not prepared in {data_dir} and cannot be downloaded: {reason}", reason=reason,
            hint="connect to the internet and try again, or use --dataset PATH with a folder of MNIST IDX files",
        )
    tfds = import_tfds()

    if status is not None:
        status(f"downloading {name} into {data_dir} (once; later runs read it from there)")
    try:
        with tfds_silenced():
            builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # network errors, checksum mismatches, disk full...
        raise DownloadUnavailableError(
            f"downloading {name} failed: {_first_line(exc)}", reason=f"download failed: {_first_line(exc)}",
            hint=f"try again later; an unfinished preparation is redone, or {rebuild_hint(name, Path(builder.data_dir))}",
        ) from exc
    return builder


@contextlib.contextmanager
def tfds_silenced():
    """Keep tfds' "Downloading and preparing dataset ..." lines (printed on stdout), its
    progress bars and its absl messages away from the user: digitkit says what happens in
    its own words (see ``status`` in :func:`prepare`)."""
    import io

    tfds = import_tfds()

    tfds.disable_progress_bar()
    with contextlib.redirect_stdout(io.StringIO()), quiet_absl():
        yield


def remove_prepared(data_dir: Path, name: str) -> list[Path]:
    """Delete everything prepared for ``name`` (``family`` or ``family/config``) in ``data_dir``.

    Works on damaged folders too (no builder needed): the dataset's folder, tfds' leftovers
    of unfinished preparations, and digitkit's decoded cache.
    """
    relative = Path(*name.split("/"))
    removed = []
    for root in (data_dir, data_dir / "digitkit-cache"):
        folder = root / relative
        for path in [folder, *folder.parent.glob(f"{folder.name}.incomplete*")]:
            if path.exists():
                shutil.rmtree(path)
                removed.append(path)
    return removed


def read_split(builder, name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """One prepared split as (uint8 N x 28 x 28 images, int64 labels), MNIST-style.

    The first read decodes tfds' records (seconds for MNIST) and keeps the arrays in
    :func:`cache_path`; later reads load that file instead.
    """
    known = builder.info.splits
    if known and split not in known:
        raise UsageError(f"{name} has no {split!r} split", hint=f"it has: {', '.join(known)}")
    # Empty split info means tfds knows no sizes (never the case once prepared): read, don't cache.
    expected = int(known[split].num_examples) if known else None
    cached = _read_cache(cache_path(builder, split), expected) if expected is not None else None
    if cached is not None:
        return cached
    images, labels = _decode_split(builder, name, split)
    images = to_mnist_style(images, name)
    if expected is not None:
        _write_cache(cache_path(builder, split), images, labels)
    return images, labels


def _decode_split(builder, name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    tfds = import_tfds()

    try:
        with quiet_absl():  # deprecation notices from tfds' own feature code
            dataset = builder.as_dataset(split=split, shuffle_files=False).batch(DECODE_BATCH)
            batches = list(tfds.as_numpy(dataset))
        if not batches:
            raise ValueError(f"the {split} split is empty")
        images = np.concatenate([b["image"] for b in batches])
        return images, np.concatenate([b["label"] for b in batches]).astype(np.int64)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # truncated records, missing shards, unreadable metadata
        folder = Path(builder.data_dir)
        raise DamagedDatasetError(f"prepared dataset {name} in {folder} is damaged: {_first_line(exc)}",
                                  hint=rebuild_hint(name, folder)) from exc


def cache_path(builder, split: str) -> Path:
    """Decoded arrays of a prepared split: ``<data_dir>/digitkit-cache/<name>/<config>/<version>/<split>.npz``."""
    return Path(builder.data_dir_root) / "digitkit-cache" / builder.info.full_name / f"{split}.npz"


def _read_cache(path: Path, expected: int) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            images, labels = data["images"], data["labels"]
    except (OSError, ValueError, KeyError, EOFError):
        return None  # absent or damaged: decode again
    if len(images) != expected or len(labels) != expected or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        return None
    return images, labels.astype(np.int64)


def _write_cache(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    from digitkit._internal.atomic import atomic_path
    from digitkit.errors import DigitkitError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, images=images, labels=labels)
    except (OSError, DigitkitError):
        pass  # the cache only saves time; a read-only or full disk must not fail the load


def to_mnist_style(images: np.ndarray, name: str) -> np.ndarray:
    """Grey 28x28 uint8 with white ink on black, whatever the tfds dataset stores."""
    family = name.split("/")[0]
    if images.ndim == 4 and images.shape[-1] == 3:
        images = np.asarray(images, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    elif images.ndim == 4:
        images = images[..., 0]
    if family == "emnist":  # EMNIST is stored transposed relative to MNIST (tfds docs)
        images = np.transpose(images, (0, 2, 1))
    if family == "svhn_cropped":
        images = _normalise_polarity(np.asarray(images, np.float32))
    if images.shape[1:] != (28, 28):
        images = _resize_to_28(np.asarray(images, np.float32))
    return np.clip(np.rint(images), 0, 255).astype(np.uint8) if images.dtype != np.uint8 else images


def _normalise_polarity(images: np.ndarray) -> np.ndarray:
    """Stretch each image to 0..255 and invert those whose border is brighter than the centre."""
    low = images.min(axis=(1, 2), keepdims=True)
    high = images.max(axis=(1, 2), keepdims=True)
    images = (images - low) / np.maximum(high - low, 1.0) * 255.0
    border = np.concatenate([images[:, :3].reshape(len(images), -1), images[:, -3:].reshape(len(images), -1)], axis=1)
    centre = images[:, 8:-8, 8:-8].reshape(len(images), -1)
    invert = border.mean(axis=1) > centre.mean(axis=1)
    images[invert] = 255.0 - images[invert]
    return images


def _resize_to_28(images: np.ndarray) -> np.ndarray:
    from PIL import Image

    out = np.empty((len(images), 28, 28), np.float32)
    for i, image in enumerate(images):
        out[i] = np.asarray(Image.fromarray(image, mode="F").resize((28, 28), Image.Resampling.BILINEAR))
    return out


def split_sizes(builder) -> dict[str, int]:
    """Examples per split of a prepared builder (empty when not prepared)."""
    return {split: int(info.num_examples) for split, info in builder.info.splits.items()}
