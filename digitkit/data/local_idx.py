"""Local MNIST-format IDX files, prepared once into a tensorflow-datasets dataset.

A folder with ``train-images-idx3-ubyte.gz`` and friends becomes the tfds dataset
``digitkit_idx/<folder>-<hash>`` in the digitkit data folder, without any network. Later
loads read the prepared records (offline, like any tfds dataset). The hash covers the
folder's path and its IDX files' names, sizes and modification times, so replacing the
files prepares them again instead of serving stale digits.

This module imports tensorflow-datasets at import time; import it lazily.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import numpy as np

from digitkit.data.idx import find_idx_files, read_idx_pair
from digitkit.data.tfds_source import import_tfds

tfds = import_tfds()  # its lazy imports kept to this thread (see digitkit._internal.thread_imports)

BUILDER_NAME = "digitkit_idx"


@dataclasses.dataclass(eq=False)
class IdxConfig(tfds.core.BuilderConfig):
    """One folder of IDX files; ``folder`` is where the files are read from."""

    folder: str = ""


class DigitkitIdx(tfds.core.GeneratorBasedBuilder):
    """MNIST-format IDX files from a local folder (train and, if present, test)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First version."}

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description="MNIST-format IDX files from a local folder, prepared by digitkit.",
            features=tfds.features.FeaturesDict({
                # Raw uint8 tensors (zlib) instead of PNG: preparing and reading need no codec.
                "image": tfds.features.Tensor(shape=(28, 28, 1), dtype=np.uint8, encoding="zlib"),
                "label": tfds.features.ClassLabel(num_classes=10),
            }),
            supervised_keys=("image", "label"),
            disable_shuffling=True,  # keep the IDX order, so index N means the same digit everywhere
        )

    def _split_generators(self, dl_manager):
        folder = Path(self.builder_config.folder)
        splits = {}
        for split in ("train", "test"):
            files = find_idx_files(folder, split)
            if files:
                splits[split] = self._generate_examples(*files)
        return splits

    def _generate_examples(self, images_path: Path, labels_path: Path):
        images, labels = read_idx_pair(images_path, labels_path)
        for i in range(len(labels)):
            yield i, {"image": images[i][..., None], "label": int(labels[i])}


def config_for(folder: Path) -> IdxConfig:
    """The builder config (name = folder slug + content hash) of an IDX folder."""
    folder = folder.expanduser().resolve()
    digest = hashlib.sha256(str(folder).encode())
    for split in ("train", "test"):
        for path in find_idx_files(folder, split) or ():
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    slug = re.sub(r"[^a-z0-9]+", "_", folder.name.lower()).strip("_")[:40] or "idx"
    return IdxConfig(name=f"{slug}_{digest.hexdigest()[:10]}", description=str(folder), folder=str(folder))


def prepare(folder: Path, data_dir: Path, *, force: bool = False, status=None) -> DigitkitIdx:
    """Prepare the IDX folder into ``data_dir`` unless it already is; returns the builder.

    ``status`` (a callable taking one line) hears about the one-time preparation; tfds'
    "Downloading and preparing dataset Unknown size" and its bars never reach the user.
    """
    from digitkit.data.tfds_source import (DamagedDatasetError, is_prepared, quiet_absl, rebuild_hint,
                                           remove_prepared, tfds_silenced)

    config = config_for(folder)
    if force:
        remove_prepared(Path(data_dir), f"{BUILDER_NAME}/{config.name}")
    try:
        with quiet_absl():  # "Using custom data configuration": expected, one per folder
            builder = DigitkitIdx(config=config, data_dir=str(data_dir))
    except Exception as exc:  # unreadable dataset_info.json/features.json from an earlier run
        prepared = Path(data_dir) / BUILDER_NAME / config.name
        raise DamagedDatasetError(f"the prepared copy of {folder} in {prepared} is damaged: {exc}",
                                  hint=rebuild_hint(str(folder), prepared)) from exc
    if not is_prepared(builder):
        for split in ("train", "test"):  # fail on bad files before tfds starts writing
            files = find_idx_files(folder, split)
            if files:
                read_idx_pair(*files)
        if status is not None:
            status(f"preparing the IDX files of {folder} (once; later runs read the prepared copy)")
        with tfds_silenced():
            builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
                try_download_gcs=False, compute_stats=tfds.download.ComputeStatsMode.SKIP))
    return builder


def prepared_folders(data_dir: Path) -> list[tuple[str, Path]]:
    """(config name, source folder) of every IDX folder prepared in ``data_dir``."""
    import json

    found = []
    for info in sorted((Path(data_dir) / BUILDER_NAME).glob("*/*/dataset_info.json")):
        try:
            config = json.loads(info.read_text()).get("configDescription", "")
        except (OSError, ValueError):
            config = ""
        found.append((info.parent.parent.name, Path(config) if config else info.parent))
    return found
