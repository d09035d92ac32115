"""What a fit reports while it runs; renderers (``digitkit.render.progress``) implement it.

The library never prints: :func:`digitkit.training.fit` calls these methods and the caller
decides what the user sees. The base class does nothing, so a caller overrides only what
it needs. :class:`EpochClock` computes the numbers every renderer shows (samples/s and the
ETAs of the epoch and of the whole run), so the live bars and ``--json`` events agree.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FitPlan:
    """What is about to be trained, known before the first batch."""

    model: str
    run_id: str
    run_path: str
    epochs: int
    initial_epoch: int  # epochs already done (resumed runs)
    steps_per_epoch: int
    batch_size: int
    train_size: int
    validation_size: int
    test_size: int
    placement: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    steps_per_execution: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BatchUpdate:
    """Where training stands after a chunk of batches.

    Attributes:
        epoch, epochs: 1-based epoch and the planned total.
        batch, batches: batches done in this epoch, and its total.
        samples_per_s: training samples per second in this epoch so far.
        eta_epoch_s: seconds left in this epoch.
        eta_run_s: seconds left in the whole run (remaining epochs timed from measured ones).
        logs: running means of the training metrics (``loss``, ``accuracy``).
    """

    epoch: int
    epochs: int
    batch: int
    batches: int
    samples_per_s: float
    eta_epoch_s: float
    eta_run_s: float
    logs: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("logs"))
        return data


class EpochClock:
    """Times epochs and batches; turns them into rates and ETAs.

    Args:
        plan: the fit's plan (epochs, steps, batch and training sizes).
        now: the clock (tests pass a fake one).
    """

    def __init__(self, plan: FitPlan, now: Any = time.perf_counter) -> None:
        self.plan, self.now = plan, now
        self.epoch_seconds: list[float] = []
        self.started = now()

    def epoch_started(self) -> None:
        self.started = self.now()

    def epoch_ended(self, seconds: float) -> None:
        self.epoch_seconds.append(seconds)

    def typical_epoch(self, current_projection: float) -> float:
        """Seconds an epoch takes: the median of measured ones after the first (which holds
        tracing), else the first, else the current epoch's projection."""
        measured = self.epoch_seconds[1:] or self.epoch_seconds
        return statistics.median(measured) if measured else current_projection

    def update(self, epoch: int, done: int, logs: dict[str, float]) -> BatchUpdate:
        plan = self.plan
        elapsed = max(self.now() - self.started, 1e-9)
        samples = min(done * plan.batch_size, plan.train_size)
        per_batch = elapsed / max(done, 1)
        eta_epoch = per_batch * max(plan.steps_per_epoch - done, 0)
        later_epochs = max(plan.epochs - epoch, 0)
        eta_run = eta_epoch + later_epochs * self.typical_epoch(elapsed + eta_epoch)
        return BatchUpdate(epoch, plan.epochs, done, plan.steps_per_epoch, samples / elapsed, eta_epoch, eta_run,
                           dict(logs))

    def eta_after_epoch(self, epoch: int) -> float:
        return max(self.plan.epochs - epoch, 0) * self.typical_epoch(0.0)


class FitProgress:
    """No-op progress; subclass and override."""

    def phase(self, text: str) -> None:
        """A step before training starts (``"loading TensorFlow"``...): worth a spinner, not a line."""

    def note(self, text: str) -> None:
        """A one-line message worth keeping (e.g. IDX files being prepared once)."""

    def start(self, plan: FitPlan) -> None:
        """Training is about to start."""

    def fitting(self, model: Any, config: Any, data: Any) -> None:
        """Right after :meth:`start`: the compiled Keras ``model``, the ``FitConfig`` and the
        loaded splits (``data.train``, ``data.validation``, ``data.test``), for side logs
        such as TensorBoard that record the model and its hyperparameters."""

    def epoch_start(self, epoch: int) -> None:
        """1-based ``epoch`` starts."""

    def update(self, update: BatchUpdate) -> None:
        """A chunk of batches is done (at least 10 updates per epoch)."""
        self.batch(update.epoch, update.batch, update.batches, update.logs, update.samples_per_s)

    def batch(self, epoch: int, done: int, steps: int, logs: dict[str, float], samples_per_s: float) -> None:
        """Older hook, called by the default :meth:`update`: ``done`` of ``steps`` batches."""

    def epoch_end(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        """1-based ``epoch`` ended; ``logs`` hold train and (when validating) val_ metrics."""

    def evaluating(self) -> None:
        """Training ended; the test split is being evaluated."""

    def end(self, result: Any) -> None:
        """The fit finished (``result`` is a FitResult) or stopped (``result`` is None)."""
