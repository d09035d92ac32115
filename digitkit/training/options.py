"""Everything a caller may ask of a fit, checked before TensorFlow is imported.

:class:`FitOptions` is what ``digitkit fit`` parses and what :func:`digitkit.fit` takes
apart into; :meth:`FitOptions.check` refuses a bad value in milliseconds, so a typo never
waits for the 5-20 s TensorFlow import (tests/test_fit_options.py checks ``sys.modules``).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from digitkit.errors import UsageError

DEFAULT_PATIENCE = 3
DIGIT_CLASSES = 10
MAX_SEED = 2**32 - 1  # keras.utils.set_random_seed feeds NumPy, which takes 32-bit seeds
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RECIPE_FIELDS = ("epochs", "batch_size", "learning_rate", "validation_split")
# Only these may be given with --resume (the rest would change what the run computes).
RESUME_FIELDS = ("model", "epochs", "resume", "gpu", "devices", "deterministic")


@dataclass(frozen=True)
class FitOptions:
    """The options of one fit; ``None`` means "the recipe's value" or "not asked for".

    Attributes:
        model: a registered model name (optional with ``resume``).
        dataset: a ``--dataset`` string (see :func:`digitkit.data.resolve.resolve_dataset`).
        epochs, batch_size, learning_rate, validation_split: override the recipe.
        seed: seed of weights, data order, dropout and augmentation (random when ``None``).
        early_stopping, patience: stop when the monitored loss stops improving.
        augment: random shifts, rotations, scale and stroke width.
        gpu, devices, mixed_precision: hardware requests (see digitkit.training.distribute).
        deterministic: TensorFlow's deterministic kernels (bit-for-bit repeats, ~15 % slower
            for the cnn on CPU).
        out: folder for the run directory.
        resume: id or folder of an interrupted run.
        name: a label for the run, stored in the manifest field ``name``.
        train_size, test_size: use only the first N digits.
    """

    model: str | None = None
    dataset: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int | None = None
    validation_split: float | None = None
    early_stopping: bool = False
    patience: int | None = None
    augment: bool = False
    gpu: bool = False
    devices: int | str | None = None
    mixed_precision: bool = False
    deterministic: bool = False
    out: str | Path | None = None
    resume: str | None = None
    name: str | None = None
    train_size: int | None = None
    test_size: int | None = None

    def overrides(self) -> dict[str, Any]:
        """The recipe fields this fit changes."""
        return {k: getattr(self, k) for k in RECIPE_FIELDS if getattr(self, k) is not None}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out) if self.out is not None else None
        return data

    def replace(self, **changes: Any) -> "FitOptions":
        return replace(self, **changes)

    def check(self) -> "FitOptions":
        """Refuse bad values without importing TensorFlow; returns self for chaining.

        Raises:
            UsageError: the first bad value, named as its command-line flag.
        """
        _positive("epochs", self.epochs)
        _positive("batch_size", self.batch_size)
        _positive("patience", self.patience)
        _positive("train_size", self.train_size)
        _positive("test_size", self.test_size)
        if self.learning_rate is not None and not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise _bad("learning_rate", self.learning_rate, "a finite number > 0")
        if self.validation_split is not None and not 0 <= self.validation_split < 1:
            raise _bad("validation_split", self.validation_split, "0 <= value < 1")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise _bad("seed", self.seed, f"0 <= value <= {MAX_SEED}")
        if self.name is not None and not LABEL.match(self.name):
            raise UsageError(f"expected --name to be 1-64 letters, digits, '.', '_' or '-', starting with a "
                             f"letter or digit. Received: name={self.name!r}")
        if self.out is not None and Path(self.out).expanduser().exists() and not Path(self.out).expanduser().is_dir():
            raise UsageError(f"--out {self.out} is a file; expected a folder (created when missing)")
        from digitkit.training.distribute import parse_devices

        parse_devices(self.devices)
        if self.resume is not None:
            self._check_resume()
            return self
        if not self.model:
            raise UsageError("expected a model name (see `digitkit list-models`) or --resume RUN")
        from digitkit.plugins import registry
        from digitkit.data.resolve import resolve_dataset

        spec = registry.get_spec(self.model)
        if spec.num_classes < DIGIT_CLASSES:
            raise UsageError(f"model {spec.name!r} declares {spec.num_classes} classes; digit datasets have "
                             f"{DIGIT_CLASSES} (0-9)", hint="its spec's num_classes must be 10 to train on digits")
        try:
            spec.recipe.replace(**self.overrides())
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        resolve_dataset(self.dataset)
        return self

    def _check_resume(self) -> None:
        default = FitOptions()
        changed = [f.name for f in fields(self)
                   if f.name not in RESUME_FIELDS and getattr(self, f.name) != getattr(default, f.name)]
        if changed:
            flags = ", ".join("--" + k.replace("_", "-") for k in changed)
            raise UsageError(f"--resume continues a run with its own settings; cannot change {flags}",
                             hint="only --epochs may raise the planned epochs")


def _positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise _bad(name, value, ">= 1")


def _bad(name: str, value: Any, expected: str) -> UsageError:
    flag = "--" + name.replace("_", "-")
    return UsageError(f"expected {flag} {expected}. Received: {name}={value}")
