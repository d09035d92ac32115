"""What a ``--dataset`` string means, decided in one place and without importing TensorFlow.

Every caller (``load_digits``, ``prepare_dataset``, ``fit``'s option checks) asks
:func:`resolve_dataset`, so a name cannot mean a tfds dataset to one command and a folder to
another. The rules, in order:

1. ``None``: the default (full MNIST through tensorflow-datasets, else the bundled sample).
2. ``"sample"``: the bundled sample.
3. A known tensorflow-datasets digit name (``mnist``, ``mnist_corrupted/<corruption>``,
   ``emnist/<config>``, ``svhn_cropped``): that dataset, even when a folder of the same
   name exists here (write ``./mnist`` to mean the folder).
4. Anything that looks like a path (starts with ``.``, ``~``, ``/``, holds a separator, or
   exists): that folder.
5. Otherwise: a usage error that suggests the closest known names.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from digitkit.errors import UsageError

SAMPLE_NAME = "sample"
DEFAULT_DATASET = "mnist"

# Configs of the tfds families digitkit adapts (tensorflow-datasets 4.9), so a wrong config
# is refused before tfds (and TensorFlow) is imported, with the right names in the message.
MNIST_CORRUPTIONS = (
    "identity", "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
    "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges",
)
CONFIGS: dict[str, tuple[str, ...]] = {
    "mnist": (),
    "mnist_corrupted": MNIST_CORRUPTIONS,
    "emnist": ("byclass", "bymerge", "balanced", "letters", "digits", "mnist"),
    "svhn_cropped": (),
}


@dataclass(frozen=True)
class DatasetRef:
    """A resolved ``--dataset`` value.

    Attributes:
        kind: ``"default"``, ``"sample"``, ``"tfds"`` or ``"folder"``.
        name: the name to record (the user's text, or ``mnist`` for the default).
        path: the folder, for ``kind == "folder"``.
    """

    kind: str
    name: str
    path: Path | None = None


def known_names() -> list[str]:
    """Every dataset name digitkit accepts besides folders."""
    names = [SAMPLE_NAME]
    for family, configs in CONFIGS.items():
        names.append(family)
        names += [f"{family}/{config}" for config in configs]
    return names


def _looks_like_path(text: str) -> bool:
    return text.startswith((".", "~", "/")) or "\\" in text or Path(text).expanduser().exists()


def _tfds_ref(text: str) -> DatasetRef | None:
    """The tfds reference for ``family[/config][:version]``; None when the family is unknown."""
    family, _, rest = text.partition("/")
    family = family.split(":")[0]
    if family not in CONFIGS or text.startswith((".", "~", "/")):
        return None
    config = rest.split(":")[0]
    configs = CONFIGS[family]
    if config and configs and config not in configs:
        close = difflib.get_close_matches(config, configs, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(f'{family}/{c}' for c in close)}?" if close else \
            f"known: {', '.join(configs)}"
        raise UsageError(f"{family} has no variant {config!r}", hint=hint)
    if config and not configs:
        if Path(text).expanduser().exists():
            return None  # e.g. mnist/ beside a file: a folder the user means
        raise UsageError(f"{family} has no variants; use --dataset {family}")
    return DatasetRef("tfds", text)


def resolve_dataset(dataset: str | None) -> DatasetRef:
    """Decide what ``dataset`` names (see the module docstring for the rules).

    Raises:
        UsageError: an empty string, an unknown name (with suggestions), an unknown variant.
    """
    if dataset is None:
        return DatasetRef("default", DEFAULT_DATASET)
    if not dataset.strip():
        raise UsageError("expected a dataset name or folder. Received: dataset=''",
                         hint="omit --dataset for MNIST, or write --dataset . for the current folder")
    if dataset == SAMPLE_NAME:
        return DatasetRef("sample", SAMPLE_NAME)
    tfds_ref = _tfds_ref(dataset)
    if tfds_ref is not None:
        return tfds_ref
    if _looks_like_path(dataset) or "/" in dataset:
        return DatasetRef("folder", dataset, Path(dataset).expanduser())
    close = difflib.get_close_matches(dataset.lower(), known_names(), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "see `digitkit datasets` for the names and folders digitkit reads"
    raise UsageError(f"unknown dataset {dataset!r}", hint=hint)
