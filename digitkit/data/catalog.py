"""Which datasets digitkit can read here, whether they are prepared, and rebuilding them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from digitkit import home
from digitkit.errors import InputError, UnavailableError, UsageError

# Split sizes published for the tfds datasets, shown before they are prepared.
KNOWN_SIZES = {
    "mnist": {"train": 60_000, "test": 10_000},
    "mnist_corrupted": {"train": 60_000, "test": 10_000},
    "emnist/digits": {"train": 240_000, "test": 40_000},
    "emnist/mnist": {"train": 60_000, "test": 10_000},
    "svhn_cropped": {"train": 73_257, "test": 26_032, "extra": 531_131},
}


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset as ``digitkit datasets`` lists it.

    Attributes:
        name: what to pass to ``--dataset``.
        kind: ``"bundled"``, ``"tensorflow-datasets"`` or ``"IDX folder"``.
        status: ``"ready"``, ``"not prepared"`` (downloads on first use) or ``"damaged"``.
        splits: examples per split (published sizes when not prepared).
        location: where its files are (or will be).
        description: one line about it.
        problem: for damaged datasets, what is wrong and how to rebuild.
    """

    name: str
    kind: str
    status: str
    splits: dict[str, int]
    location: str
    description: str
    problem: str | None = None
    default: bool = field(default=False)

    def to_dict(self) -> dict:
        return asdict(self)


def _sample_entry() -> DatasetEntry:
    from digitkit.data import SAMPLE_DIR

    return DatasetEntry("sample", "bundled", "ready", {"train": 6_000, "test": 1_000}, str(SAMPLE_DIR),
                        "6,000 train / 1,000 test MNIST digits shipped with digitkit (offline fallback)")


def _tfds_entry(name: str, data_dir: Path) -> DatasetEntry:
    from digitkit.data import tfds_source

    family = name.split("/")[0]
    description = tfds_source.FAMILIES[family]
    published = KNOWN_SIZES.get(name, KNOWN_SIZES.get(family, {}))
    try:
        builder = tfds_source.builder_for(name, data_dir)
    except tfds_source.DamagedDatasetError as exc:
        return DatasetEntry(name, "tensorflow-datasets", "damaged", {}, str(data_dir / family), description,
                            f"{exc.message} ({exc.hint})")
    location = str(builder.data_dir)
    if not tfds_source.is_prepared(builder):
        return DatasetEntry(name, "tensorflow-datasets", "not prepared", published, location,
                            description + "; downloads on first use", default=name == "mnist")
    return DatasetEntry(name, "tensorflow-datasets", "ready", tfds_source.split_sizes(builder), location,
                        description, default=name == "mnist")


def _prepared_tfds_names(data_dir: Path) -> list[str]:
    """Digit datasets prepared in ``data_dir`` beyond the listed ones (other corruptions...)."""
    from digitkit.data.tfds_source import FAMILIES

    names = []
    for family in FAMILIES:
        for info in sorted((data_dir / family).glob("*/dataset_info.json")):
            names.append(family)
        for info in sorted((data_dir / family).glob("*/*/dataset_info.json")):
            names.append(f"{family}/{info.parent.parent.name}")
    return names


def _idx_entries(data_dir: Path) -> list[DatasetEntry]:
    if not (data_dir / "digitkit_idx").is_dir():
        return []
    from digitkit.data.local_idx import prepared_folders

    entries = []
    for config, folder in prepared_folders(data_dir):
        status = "ready" if folder.is_dir() else "source folder gone"
        sizes = _idx_sizes(data_dir / "digitkit_idx" / config)
        entries.append(DatasetEntry(str(folder), "IDX folder", status, sizes, str(data_dir / "digitkit_idx" / config),
                                    "MNIST-format IDX files, prepared as a tfds dataset"))
    return entries


def _idx_sizes(config_dir: Path) -> dict[str, int]:
    import json

    for info in config_dir.glob("*/dataset_info.json"):
        try:
            splits = json.loads(info.read_text()).get("splits", [])
            return {s["name"]: sum(int(n) for n in s.get("shardLengths", [])) for s in splits}
        except (OSError, ValueError, KeyError, TypeError):
            return {}
    return {}


def list_datasets(data_dir: str | Path | None = None) -> list[DatasetEntry]:
    """Every source available here: the sample, tfds digit datasets, prepared IDX folders."""
    from digitkit.data.tfds_source import LISTED

    data_dir = Path(data_dir) if data_dir is not None else home.data_dir()
    entries = [_sample_entry()]
    names = list(LISTED)
    names += [n for n in _prepared_tfds_names(data_dir) if n not in names]
    entries += [_tfds_entry(name, data_dir) for name in names]
    return entries + _idx_entries(data_dir)


def prepare_dataset(name: str, data_dir: str | Path | None = None, *, rebuild: bool = False) -> DatasetEntry:
    """Download/prepare a dataset now (``rebuild``: delete what is there first).

    Raises:
        UsageError: a name that cannot be prepared (the bundled sample, an unknown name).
        UnavailableError: the download host cannot be reached; nothing was deleted.
    """
    from digitkit.data import tfds_source
    from digitkit.data.network import download_host, unreachable_reason
    from digitkit.data.resolve import resolve_dataset

    data_dir = Path(data_dir) if data_dir is not None else home.data_dir()
    ref = resolve_dataset(name)
    if ref.kind == "sample":
        raise UsageError("the bundled sample needs no preparing", hint="it ships with digitkit")
    if ref.kind == "folder":
        from digitkit.data import local_idx
        from digitkit.data.idx import has_idx_files

        folder = ref.path
        if not folder.is_dir():
            raise InputError(f"dataset folder {folder} does not exist", hint="see `digitkit datasets`")
        if not has_idx_files(folder):
            raise InputError(f"{folder} holds no MNIST IDX files",
                             hint="image folders are read directly and need no preparing")
        local_idx.prepare(folder, data_dir, force=rebuild)
        return next(e for e in _idx_entries(data_dir) if Path(e.name) == folder.resolve())
    if rebuild:  # check first, so an offline rebuild does not delete a usable copy
        reason = unreachable_reason(*download_host(name))
        if reason:
            raise UnavailableError(f"cannot rebuild {name} now: {reason}", hint="nothing was deleted; try again online")
    try:
        tfds_source.prepare(name, data_dir, force=rebuild)
    except tfds_source.DownloadUnavailableError as exc:
        # `datasets` has no --dataset option: say what works offline here instead.
        raise UnavailableError(f"{name} cannot be downloaded now: {exc.reason}",
                               hint="try again online; meanwhile `-d sample` works offline with fit, evaluate, "
                                    "preview") from None
    return _tfds_entry(name, data_dir)
