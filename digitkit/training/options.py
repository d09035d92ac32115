"""Everything a caller may ask of a fit, checked before TensorFlow is imported.

:class:`FitOptions` is the one declaration of fit's options: each field carries its
command-line form (:func:`digitkit._internal.declared.option`), from which ``digitkit fit``'s
Typer options are made, and :func:`digitkit.fit` builds one from its keywords.
:meth:`FitOptions.check` refuses a bad value in milliseconds, so a typo never waits for the
5-20 s TensorFlow import (tests/test_fit_options.py checks ``sys.modules``), and resolves the
dataset once; the resolved reference travels to the data loader.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from digitkit._internal.declared import Declared, of_dataclass, option
from digitkit.errors import UsageError

DEFAULT_PATIENCE = 3
DIGIT_CLASSES = 10
MAX_SEED = 2**32 - 1  # keras.utils.set_random_seed feeds NumPy, which takes 32-bit seeds
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RECIPE_FIELDS = ("epochs", "batch_size", "learning_rate", "validation_split")
# Only these may be given with --resume (the rest would change what the run computes).
RESUME_FIELDS = ("model", "epochs", "resume", "gpu", "devices", "deterministic", "no_tensorboard", "mlflow")
FINETUNE_FIELDS = ("freeze", "replay", "replay_data")  # meaningful only with --init-from


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
        init_from: a model reference whose weights the fit starts from (see
            :mod:`digitkit.training.finetune` for the few-example recipe it implies).
        freeze: with ``init_from``, train only the layers after the last feature layer.
        replay, replay_data: with ``init_from``, mix this share of digits from ``replay_data``
            (default MNIST) into the training digits.
        no_tensorboard: skip the TensorBoard event files (``tensorboard/`` in the run).
        mlflow: also log the run to this MLflow tracking URI (default: ``MLFLOW_TRACKING_URI``).
    """

    model: str | None = None
    dataset: str | None = option(None, "--dataset", "-d", complete="complete_dataset",
                                 help="Dataset name or folder of MNIST IDX files.")
    epochs: int | None = option(None, "--epochs", "-e", type=int, help="Epochs (default: the model's recipe).")
    batch_size: int | None = option(None, "--batch-size", type=int, help="Samples per step (default: recipe).")
    learning_rate: float | None = option(None, "--learning-rate", type=float,
                                         help="Optimizer learning rate (default: recipe).")
    seed: int | None = option(None, "--seed", type=int,
                              help="Seed for weights, data order, dropout (default: random, recorded in the run).")
    validation_split: float | None = option(None, "--validation-split", type=float,
                                            help="Share of training digits held out for validation, 0 for none "
                                                 "(default: recipe).")
    early_stopping: bool = option(False, "--early-stopping", type=bool,
                                  help="Stop when validation loss stops improving; keep the best weights.")
    patience: int | None = option(None, "--patience", type=int,
                                  help="Epochs without improvement before early stopping (default 3).")
    augment: bool = option(False, "--augment", type=bool, help="Random shifts, rotations, scale and stroke width.")
    gpu: bool = option(False, "--gpu", type=bool, help="Train on a GPU; fail if none is visible.")
    devices: int | str | None = option(None, "--devices", help="Train data-parallel on N devices, or 'all' "
                                       "(MirroredStrategy; TF_CONFIG for several machines).")
    mixed_precision: bool = option(False, "--mixed-precision", type=bool, help="float16 compute (GPU only).")
    deterministic: bool = option(False, "--deterministic", type=bool,
                                 help="Deterministic kernels: the same seed repeats a run bit for bit (slower).")
    out: str | Path | None = option(None, "--out", "-o",
                                    help="Folder for the run directory (default: the home's runs/).")
    resume: str | None = option(None, "--resume", metavar="RUN", help="Continue an interrupted run (id or folder).")
    name: str | None = option(None, "--name", metavar="LABEL", show_default=False,
                              help="A label for the run, usable wherever a run id is.")
    train_size: int | None = option(None, "--train-size", type=int, help="Use only the first N training digits.")
    test_size: int | None = option(None, "--test-size", type=int, help="Use only the first N test digits.")
    init_from: str | None = option(None, "--init-from", metavar="REF", show_default=False,
                                   help="Fine-tune from these weights (NAME@pretrained, a run id or a .keras "
                                        "file) with a few-example recipe.")
    freeze: bool = option(False, "--freeze", type=bool,
                          help="With --init-from: train only the classifier, keep feature layers frozen.")
    replay: float | None = option(None, "--replay", metavar="FRACTION", type=float, show_default=False,
                                  help="With --init-from: share of each batch drawn from MNIST so the model "
                                       "keeps what it knew (0 < FRACTION < 1).")
    replay_data: str | None = option(None, "--replay-data", metavar="DATASET", show_default=False,
                                     help="Where --replay draws its digits from (default: mnist).")
    no_tensorboard: bool = option(False, "--no-tensorboard", type=bool,
                                  help="Do not write TensorBoard event files into the run.")
    mlflow: str | None = option(None, "--mlflow", metavar="URI", show_default=False,
                                help="Also log to this MLflow tracking URI (default: $MLFLOW_TRACKING_URI; "
                                     "needs digitkit[mlflow]).")

    @classmethod
    def declared(cls) -> list[Declared]:
        """The command-line declaration of every option but the model (``digitkit fit``'s options)."""
        return of_dataclass(cls)

    @classmethod
    def from_keywords(cls, model: str | None = None, **options: Any) -> "FitOptions":
        """``FitOptions(model=model, **options)``; an unknown keyword is a ``TypeError`` naming the closest."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
            raise TypeError(f"fit() got an unexpected keyword argument {unknown[0]!r}"
                            + (f"; did you mean {close[0]!r}?" if close else ""))
        return cls(model=model, **options)

    @property
    def dataset_ref(self) -> Any:
        """The dataset as :meth:`check` resolved it (a :class:`~digitkit.data.resolve.DatasetRef`), or ``None``."""
        return self.__dict__.get("_dataset_ref")

    def overrides(self) -> dict[str, Any]:
        """The recipe fields this fit changes."""
        return {k: getattr(self, k) for k in RECIPE_FIELDS if getattr(self, k) is not None}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)  # fields only: the resolved dataset is not an option
        data["out"] = str(self.out) if self.out is not None else None
        return data

    def replace(self, **changes: Any) -> "FitOptions":
        return replace(self, **changes)

    def check(self) -> "FitOptions":
        """Refuse bad values without importing TensorFlow; returns self for chaining.

        Raises:
            UsageError: the first bad value, named as its command-line flag.
        """
        if self.__dict__.get("_checked"):
            return self  # the CLI checks before it shows progress; fit() need not check again
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
            object.__setattr__(self, "_checked", True)
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
        # Resolved once, here: the reference travels with the options to the data loader.
        object.__setattr__(self, "_dataset_ref", resolve_dataset(self.dataset))
        self._check_finetune(spec)
        object.__setattr__(self, "_checked", True)
        return self

    def _check_finetune(self, spec: Any) -> None:
        if self.init_from is None:
            given = [f for f in FINETUNE_FIELDS if getattr(self, f) not in (None, False)]
            if given:
                raise UsageError(f"--{given[0].replace('_', '-')} needs --init-from REF (it fine-tunes a model)")
            return
        if self.replay is not None and not 0 < self.replay < 1:
            raise _bad("replay", self.replay, "0 < value < 1")
        if self.replay_data is not None and self.replay is None:
            raise UsageError("--replay-data needs --replay FRACTION")
        from digitkit.training.finetune import check_parent

        object.__setattr__(self, "_parent", check_parent(self.init_from, spec))
        if self.replay is not None:
            from digitkit.data.resolve import resolve_dataset

            object.__setattr__(self, "_replay_ref", resolve_dataset(self.replay_data))

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
