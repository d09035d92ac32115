"""Expected calibration error: how far confidence is from accuracy (pure NumPy, never prints).

Equal-width bins over the predicted class's probability; ECE is the share-weighted mean gap
between each bin's accuracy and its mean confidence (Guo et al., 2017, "On Calibration of
Modern Neural Networks"; 15 bins, as there).
"""

from __future__ import annotations

import numpy as np

BINS = 15


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """ECE of class ``probabilities`` (N x classes) against integer ``labels``; NaN when N is 0."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    if not len(labels):
        return float("nan")
    confidences = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.clip(np.ceil(confidences * bins).astype(np.int64) - 1, 0, bins - 1)
    total = 0.0
    for b in np.unique(which):
        inside = which == b
        total += inside.sum() * abs(correct[inside].mean() - confidences[inside].mean())
    return float(total / len(labels))
