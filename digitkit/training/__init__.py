"""Training: the one door into fit, and the pieces behind it, one job per module.

:func:`fit` (``digitkit.fit``) is the only way in: the Typer command, ``bench`` and Python
callers all build one :class:`~digitkit.training.options.FitOptions` through it.

``options`` (typed options, checked before TensorFlow loads; the one declaration of fit's
options) -> ``config`` (recipe, overrides, seed; what a resume may continue) -> ``data``
(splits and the seeded tf.data pipeline, from the dataset resolved once) -> ``runtime``
(threads, seeds, devices via ``distribute``, the model compiled by ``compile``'s
``compile_for`` with ``speed``'s settings) -> ``loop`` (the epoch loop, with ``callbacks``,
``best``, ``history``, ``state`` and ``lock``) -> ``rundir`` (the files of a run) -> ``result``.
``progress`` is the interface a renderer implements; ``augment`` holds the training-time
augmentation; ``keras_private`` the few private Keras calls, guarded.

    >>> import digitkit
    >>> result = digitkit.fit("dense-sigmoid", epochs=1, train_size=500)   # doctest: +SKIP
    >>> result.test_metrics["accuracy"]                                     # doctest: +SKIP

Importing this package does not import TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from digitkit.training.options import FitOptions
from digitkit.training.progress import FitProgress
from digitkit.training.result import FitResult

__all__ = ["fit", "FitResult", "FitOptions"]


def fit(
    model_name: str | None = None,
    *,
    dataset: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    seed: int | None = None,
    validation_split: float | None = None,
    early_stopping: bool = False,
    patience: int | None = None,
    augment: bool = False,
    gpu: bool = False,
    devices: int | str | None = None,
    mixed_precision: bool = False,
    deterministic: bool = False,
    out: str | Path | None = None,
    resume: str | None = None,
    name: str | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    callbacks: list[Any] | None = None,
    progress: FitProgress | None = None,
) -> FitResult:
    """Train a model with its recipe (or overrides) and write a run directory.

    Every option is checked before TensorFlow is imported, so a bad value fails at once.

    Args:
        model_name: a registered model name; optional with ``resume``.
        dataset: dataset name or folder (see :func:`digitkit.data.resolve.resolve_dataset`).
        epochs, batch_size, learning_rate, validation_split: override the recipe.
        seed: seed of weights, data order, dropout and augmentation (random when omitted,
            recorded either way).
        early_stopping: stop when the validation loss (training loss without validation)
            has not improved for ``patience`` epochs; the best weights are kept.
        patience: epochs to wait with ``early_stopping`` (default 3).
        augment: random shifts, rotations, scale and stroke width on training digits.
        gpu: require a GPU (UnavailableError when none is visible).
        devices: train data-parallel on this many devices, or ``"all"``.
        mixed_precision: float16 compute on GPU.
        deterministic: TensorFlow's deterministic kernels: the same seed on the same machine
            repeats a run bit for bit (costs ~15 % on the cnn on CPU; off by default).
        out: folder to hold the run directory instead of the home's ``runs/``.
        resume: id or folder of an interrupted run to continue to its planned epochs
            (``epochs`` may raise the plan; nothing else may change).
        name: a label for the run (manifest field ``name``).
        train_size, test_size: use only the first N training / test digits.
        callbacks: extra Keras callbacks, called inside every epoch.
        progress: receives progress events (see :class:`digitkit.training.progress.FitProgress`).

    Raises:
        UsageError: bad options, unknown model, run not resumable, run locked by another fit.
        InputError: a damaged run or state on ``resume`` (the message says how to start over).
        UnavailableError: ``gpu`` or ``devices`` asks for hardware that is not here.
        PluginError: a model whose built shape disagrees with its spec.
        Interrupted: Ctrl-C / SIGTERM; the run keeps its state and can be resumed.
        DigitkitError: the loss became NaN (the last good state is kept).
    """
    from digitkit.training.loop import fit as run_fit

    options = FitOptions(model=model_name, dataset=dataset, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, seed=seed, validation_split=validation_split,
                         early_stopping=early_stopping, patience=patience, augment=augment, gpu=gpu,
                         devices=devices, mixed_precision=mixed_precision, deterministic=deterministic, out=out,
                         resume=resume, name=name, train_size=train_size, test_size=test_size)
    return run_fit(options, callbacks=callbacks, progress=progress)
