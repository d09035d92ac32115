"""What a fit reports while it runs; renderers (``digitkit.render.progress``) implement it.

The library never prints: :func:`digitkit.train.fit` calls these methods and the caller
decides what the user sees. The base class does nothing, so a caller overrides only what
it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


class FitProgress:
    """No-op progress; subclass and override."""

    def start(self, plan: FitPlan) -> None:
        """Training is about to start."""

    def epoch_start(self, epoch: int) -> None:
        """1-based ``epoch`` starts."""

    def batch(self, epoch: int, done: int, steps: int, logs: dict[str, float], samples_per_s: float) -> None:
        """``done`` of ``steps`` batches of 1-based ``epoch`` are done; ``logs`` are running means."""

    def epoch_end(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        """1-based ``epoch`` ended; ``logs`` hold train and (when validating) val_ metrics."""

    def evaluating(self) -> None:
        """Training ended; the test split is being evaluated."""

    def end(self, result: Any) -> None:
        """The fit finished (``result`` is a FitResult) or stopped (``result`` is None)."""
