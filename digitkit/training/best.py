"""The best epoch so far: its loss, its weights, and how long since it improved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class BestEpoch:
    """Tracks the lowest monitored loss (``val_loss`` when validating, else ``loss``).

    Attributes:
        value: the best loss so far.
        epoch: its 1-based epoch.
        wait: epochs since it last improved.
        weights: the model's weights at that epoch (only kept when validating: without a
            validation split the last epoch's weights are the model's own).
    """

    value: float | None = None
    epoch: int | None = None
    wait: int = 0
    weights: list[np.ndarray] | None = field(default=None, repr=False)

    def update(self, model: Any, epoch: int, logs: dict[str, float]) -> None:
        """Record ``epoch``'s logs; copy the weights when it is the new best."""
        value = logs["val_loss"] if "val_loss" in logs else logs["loss"]
        if self.value is None or value < self.value:
            self.value, self.epoch, self.wait = value, epoch, 0
            if "val_loss" in logs:
                self.weights = model.get_weights()
        else:
            self.wait += 1

    def should_stop(self, patience: int) -> bool:
        """Whether early stopping (with this patience) says stop."""
        return self.wait >= patience

    def to_dict(self) -> dict[str, Any]:
        """What state.json keeps (weights go to the checkpoint)."""
        return {"value": self.value, "epoch": self.epoch, "wait": self.wait}

    @classmethod
    def from_saved(cls, info: dict[str, Any], weights: list[np.ndarray] | None) -> "BestEpoch":
        return cls(info.get("value"), info.get("epoch"), int(info.get("wait") or 0), weights)
