"""Keras callbacks used inside each epoch: progress, stop requests, NaN checks.

Work at epoch boundaries (checkpoints, history, early stopping) happens in the loop of
:mod:`digitkit.training`, which calls ``model.fit`` once per epoch.
"""

from __future__ import annotations

import math
import signal
import threading
from typing import Any

import keras

from digitkit.training.progress import EpochClock, FitProgress


class StopRequested(Exception):
    """Raised inside ``model.fit`` at a safe point after Ctrl-C / SIGTERM."""


class NaNLoss(Exception):
    """Raised inside ``model.fit`` when the running loss is not finite."""

    def __init__(self, epoch: int, batch: int, value: float) -> None:
        super().__init__(f"loss became {value} in epoch {epoch} (by batch {batch})")
        self.epoch, self.batch, self.value = epoch, batch, value


class StopSignals:
    """Turns the first SIGINT/SIGTERM into a stop request; a second one interrupts at once.

    Use as a context manager; handlers are only installed in the main thread (elsewhere
    Python cannot receive signals) and the previous handlers come back on exit.
    """

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}

    def request(self, name: str = "request") -> None:
        self.requested = self.requested or name

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:  # second signal: the user means it
            raise KeyboardInterrupt
        self.request(signal.Signals(signum).name)

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None:
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


class BatchWatch(keras.callbacks.Callback):
    """Reports batch progress, stops at a safe point when asked, refuses NaN losses.

    With ``steps_per_execution`` Keras calls back once per execution, so progress moves
    in chunks of that many batches (chosen so an epoch has at least 10 updates).
    """

    def __init__(self, *, epoch: int, clock: EpochClock, progress: FitProgress, stop: StopSignals) -> None:
        super().__init__()
        self.epoch, self.clock, self.progress, self.stop = epoch, clock, progress, stop
        self.steps = clock.plan.steps_per_epoch

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.clock.epoch_started()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        logs = {k: float(v) for k, v in (logs or {}).items()}
        done = min(batch + 1, self.steps)
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            raise NaNLoss(self.epoch, done, loss)
        self.progress.update(self.clock.update(self.epoch, done, logs))
        if self.stop.requested:
            raise StopRequested(self.stop.requested)
