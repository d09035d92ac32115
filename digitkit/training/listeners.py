"""Several listeners for one fit: the caller's progress display plus the logs a fit keeps on
the side (TensorBoard event files, an MLflow run).

The loop talks to one :class:`~digitkit.training.progress.FitProgress`; :func:`with_sinks`
hands it a :class:`Fanout` that forwards every event to the caller's display, then to the
side logs. A side log that fails is dropped with one note, never the fit.
"""

from __future__ import annotations

from typing import Any

from digitkit.errors import DigitkitError
from digitkit.training import mlflow_log
from digitkit.training.options import FitOptions
from digitkit.training.progress import BatchUpdate, FitPlan, FitProgress


class Fanout(FitProgress):
    """Forwards each event to ``main`` (unguarded), then to ``sinks`` (guarded)."""

    def __init__(self, main: FitProgress, sinks: list[FitProgress]) -> None:
        self.main, self.sinks = main, list(sinks)

    def _each(self, name: str, *args: Any) -> None:
        getattr(self.main, name)(*args)  # the display first: the user sees each event at once
        for sink in list(self.sinks):
            try:
                getattr(sink, name)(*args)
            except Exception as exc:  # a side log must never end a fit
                self.sinks.remove(sink)
                self.main.note(f"{getattr(sink, 'label', type(sink).__name__)} stopped: "
                               f"{type(exc).__name__}: {exc}")

    def phase(self, text: str) -> None:
        self._each("phase", text)

    def note(self, text: str) -> None:
        self._each("note", text)

    def start(self, plan: FitPlan) -> None:
        self._each("start", plan)

    def fitting(self, model: Any, config: Any, data: Any) -> None:
        self._each("fitting", model, config, data)

    def epoch_start(self, epoch: int) -> None:
        self._each("epoch_start", epoch)

    def update(self, update: BatchUpdate) -> None:
        self._each("update", update)

    def epoch_end(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        self._each("epoch_end", epoch, logs, seconds)

    def evaluating(self) -> None:
        self._each("evaluating")

    def end(self, result: Any) -> None:
        self._each("end", result)

    def __getattr__(self, name: str) -> Any:  # close() and other extras of the display
        return getattr(self.main, name)


def with_sinks(options: FitOptions, progress: FitProgress) -> FitProgress:
    """``progress`` plus the side logs ``options`` ask for: TensorBoard unless turned off, MLflow
    with ``--mlflow URI`` or ``MLFLOW_TRACKING_URI``.

    Raises:
        UnavailableError, UsageError: ``--mlflow`` was given and MLflow cannot be used (no
            mlflow installed, a refused URI, no answer). From the environment alone this is
            a note, not an error.
    """
    sinks: list[FitProgress] = []
    if not options.no_tensorboard:
        from digitkit.training import tensorboard_log

        if tensorboard_log.available():
            sinks.append(tensorboard_log.BoardLog())
        else:
            progress.note(f"no TensorBoard logs: tensorboard is not installed ({tensorboard_log.HINT})")
    uri, asked = mlflow_log.tracking_uri(options.mlflow)
    if uri:
        try:
            client = mlflow_log.client_for(uri)  # checked now: a bad URI must not wait for training
        except DigitkitError as exc:
            if asked:
                raise
            progress.note(f"not logging to MLflow (MLFLOW_TRACKING_URI): {exc.message}"
                          + (f"; {exc.hint}" if exc.hint else ""))
        else:
            sinks.append(mlflow_log.MlflowLog(client, uri))
    return Fanout(progress, sinks) if sinks else progress
