"""What :func:`digitkit.fit` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitkit import runs


@dataclass
class FitResult:
    """A completed run: where it is and how it did."""

    run_id: str
    run_path: Path
    model: str
    status: str
    epochs: int
    epochs_completed: int
    history: dict[str, list[float]]
    test_metrics: dict[str, float]
    duration_s: float
    best_epoch: int | None = None
    notes: list[str] = field(default_factory=list)
    name: str | None = None

    @property
    def run(self) -> runs.Run:
        return runs.Run(self.run_path)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "run_path": str(self.run_path), "model": self.model, "name": self.name,
                "status": self.status, "epochs": self.epochs, "epochs_completed": self.epochs_completed,
                "best_epoch": self.best_epoch, "test_metrics": self.test_metrics, "duration_s": self.duration_s,
                "history": self.history, "notes": self.notes}
