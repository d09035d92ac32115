"""How far a model's confidence is from how often it is right.

Expected calibration error (ECE): sort the answers into 15 equal-width confidence bins,
and average |accuracy - mean confidence| over the bins weighted by how many answers fall
in each (Naeini et al., 2015; Guo et al., 2017 use the same 15 bins). 0 is perfect; a
model that says 99 % and is right 93 % of the time scores about 0.06. The bins themselves
are the reliability diagram the report draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BINS = 15


def reliability_bins(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> list[dict[str, Any]]:
    """Per equal-width confidence bin: its range, count, mean confidence and accuracy.

    Empty bins are kept (count 0, ``None`` for the means) so a diagram shows every bin.
    """
    probabilities = np.asarray(probabilities, np.float64)
    labels = np.asarray(labels, np.int64)
    confidence = probabilities.max(axis=1) if len(probabilities) else np.zeros(0)
    correct = probabilities.argmax(axis=1) == labels if len(probabilities) else np.zeros(0, bool)
    # A confidence of exactly 1.0 belongs to the last bin, (14/15, 1].
    which = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    found = []
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        found.append({"low": b / bins, "high": (b + 1) / bins, "count": count,
                      "confidence": float(confidence[inside].mean()) if count else None,
                      "accuracy": float(correct[inside].mean()) if count else None})
    return found


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """ECE with ``bins`` equal-width bins (0 = confidence matches accuracy everywhere)."""
    total = len(labels)
    if not total:
        return float("nan")
    return float(sum(b["count"] / total * abs(b["accuracy"] - b["confidence"])
                     for b in reliability_bins(probabilities, labels, bins) if b["count"]))
