"""Per-epoch metrics of a run: recorded after every epoch, written as JSON and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from digitkit import runs
from digitkit._internal import atomic

KEPT = ("loss", "accuracy", "val_loss", "val_accuracy")


class History:
    """``{"epoch": [...], "loss": [...], ..., "epoch_seconds": [...]}``, one entry per epoch."""

    def __init__(self, data: dict[str, list[float]] | None = None) -> None:
        self.data: dict[str, list[float]] = data if data is not None else {"epoch": []}

    def __len__(self) -> int:
        return len(self.data["epoch"])

    def record(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        self.data["epoch"].append(epoch)
        for key in KEPT:
            if key in logs:
                self.data.setdefault(key, []).append(logs[key])
        self.data.setdefault("epoch_seconds", []).append(round(seconds, 4))

    def write(self, run: runs.Run) -> None:
        """history.json and history.csv (same numbers), each written atomically."""
        run.write(runs.HISTORY_JSON, self.data)
        keys = list(self.data)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(keys)
        for i in range(len(self)):
            writer.writerow([self.data[k][i] for k in keys])
        atomic.write_text(run.file(runs.HISTORY_CSV), buffer.getvalue())

    def to_dict(self) -> dict[str, Any]:
        return self.data
