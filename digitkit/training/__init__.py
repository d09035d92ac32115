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
augmentation; ``keras_private`` the few private Keras calls, guarded. ``finetune`` (with
``--init-from``: the parent's weights, the few-example recipe, ``--freeze``, accuracy
before/after) and ``replay`` (``--replay``: MNIST digits mixed in) hook into ``config``,
``runtime``, ``data`` and ``loop`` with a few lines each.

    >>> import digitkit
    >>> result = digitkit.fit("dense-sigmoid", epochs=1, train_size=500)   # doctest: +SKIP
    >>> result.test_metrics["accuracy"]                                     # doctest: +SKIP

Importing this package does not import TensorFlow.
"""

from __future__ import annotations

from typing import Any

from digitkit.training.options import FitOptions
from digitkit.training.progress import FitProgress
from digitkit.training.result import FitResult

__all__ = ["fit", "FitResult", "FitOptions"]


def fit(model_name: str | None = None, *, callbacks: list[Any] | None = None,
        progress: FitProgress | None = None, **options: Any) -> FitResult:
    """Train a model with its recipe (or overrides) and write a run directory.

    The keyword options are the fields of :class:`FitOptions` (the one declaration of fit's
    options, which ``digitkit fit --help`` also lists): ``dataset``, ``epochs``,
    ``batch_size``, ``learning_rate``, ``seed``, ``validation_split``, ``early_stopping``,
    ``patience``, ``augment``, ``gpu``, ``devices``, ``mixed_precision``, ``deterministic``,
    ``out``, ``resume``, ``name``, ``train_size``, ``test_size``, ``init_from``, ``freeze``,
    ``replay``, ``replay_data``. Every option is checked
    before TensorFlow is imported, so a bad value fails at once.

    Args:
        model_name: a registered model name; optional with ``resume``.
        callbacks: extra Keras callbacks, called inside every epoch.
        progress: receives progress events (see :class:`digitkit.training.progress.FitProgress`).
        **options: see :class:`FitOptions`.

    Raises:
        TypeError: an option :class:`FitOptions` does not have.
        UsageError: bad options, unknown model, run not resumable, run locked by another fit.
        InputError: a damaged run or state on ``resume`` (the message says how to start over).
        UnavailableError: ``gpu`` or ``devices`` asks for hardware that is not here.
        PluginError: a model whose built shape disagrees with its spec.
        Interrupted: Ctrl-C / SIGTERM; the run keeps its state and can be resumed.
        DigitkitError: the loss became NaN (the last good state is kept).
    """
    from digitkit.training.loop import fit as run_fit

    return run_fit(FitOptions.from_keywords(model_name, **options), callbacks=callbacks, progress=progress)
