"""Classification metrics in NumPy: loss, accuracy, top-k, per-class scores, confusion.

Pure functions of probabilities and labels; nothing here loads a model or prints. The
report, ``evaluate`` and ``bench`` all compute their numbers here, so they agree.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from digitkit.errors import ModelRefusedError

# Keras clips probabilities the same way before taking the log, so our loss matches its own.
EPSILON = 1e-7


def check_probabilities(probabilities: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Refuse outputs that are not finite class scores.

    ``argmax`` of an all-NaN row is 0, so a broken model would otherwise look like it
    "predicts 0" everywhere.

    Raises:
        ModelRefusedError: NaN or infinite values, or a shape that does not match the labels.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2:
        raise ModelRefusedError(f"expected model outputs of shape (N, classes). Received: shape={probabilities.shape}")
    if labels is not None and probabilities.shape[0] != np.asarray(labels).shape[0]:
        raise ModelRefusedError(
            f"the model returned {probabilities.shape[0]} outputs for {np.asarray(labels).shape[0]} digits"
        )
    bad_rows = ~np.isfinite(probabilities).all(axis=1)
    if bad_rows.any():
        raise ModelRefusedError(
            f"the model produced NaN or infinite outputs for {int(bad_rows.sum())} of {len(bad_rows)} digits; "
            "refusing to score it",
            hint="the weights are probably broken (diverged training); retrain or pick another run",
        )
    return probabilities


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean categorical cross-entropy of integer ``labels`` under ``probabilities``."""
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, EPSILON, 1.0)).mean()) if len(labels) else float("nan")


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float((predicted == labels).mean()) if len(labels) else float("nan")


def top_k_accuracy(probabilities: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Share of samples whose true class is among the ``k`` highest scores."""
    if k < 1:
        raise ValueError(f"expected k >= 1. Received: k={k}")
    k = min(k, probabilities.shape[1])
    # Stable ranking: ties resolve to the lower class index, as argmax does.
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return float((top == labels[:, None]).any(axis=1).mean()) if len(labels) else float("nan")


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts with rows = true class and columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, np.int64), np.asarray(predicted, np.int64)), 1)
    return matrix


def per_class_scores(confusion: np.ndarray) -> list[dict[str, Any]]:
    """Precision, recall, F1 and support per class; 0.0 where a ratio has no denominator."""
    true_positive = np.diag(confusion).astype(np.float64)
    predicted_count = confusion.sum(axis=0).astype(np.float64)
    support = confusion.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_count > 0, true_positive / predicted_count, 0.0)
        recall = np.where(support > 0, true_positive / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return [
        {"label": int(c), "precision": float(precision[c]), "recall": float(recall[c]), "f1": float(f1[c]),
         "support": int(support[c])}
        for c in range(confusion.shape[0])
    ]


def most_confused(confusion: np.ndarray, limit: int = 5) -> list[dict[str, Any]]:
    """The largest off-diagonal cells, biggest first (ties: lower true, then predicted class).

    ``share`` is the count over all digits of the true class.
    """
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    support = confusion.sum(axis=1)
    cells = [(int(off[t, p]), t, p) for t in range(off.shape[0]) for p in range(off.shape[1]) if off[t, p] > 0]
    cells.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
    return [{"true": t, "predicted": p, "count": n, "share": n / int(support[t])} for n, t, p in cells[:limit]]


def score(probabilities: np.ndarray, labels: np.ndarray, top_k: int = 3) -> dict[str, Any]:
    """Every metric ``evaluate`` reports, as JSON-ready data.

    Args:
        probabilities: (N, classes) class probabilities, checked for NaN first.
        labels: (N,) integer true classes.
        top_k: the k of top-k accuracy.
    """
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = check_probabilities(probabilities, labels)
    num_classes = probabilities.shape[1]
    predicted = probabilities.argmax(axis=1)
    confusion = confusion_matrix(labels, predicted, num_classes)
    classes = per_class_scores(confusion)
    return {
        "metrics": {
            "loss": cross_entropy(probabilities, labels),
            "accuracy": accuracy(predicted, labels),
            "top_k_accuracy": top_k_accuracy(probabilities, labels, top_k),
            "macro_f1": float(np.mean([c["f1"] for c in classes])),
            "errors": int((predicted != labels).sum()),
        },
        "top_k": int(top_k),
        "per_class": classes,
        "confusion": confusion.tolist(),
        "most_confused": most_confused(confusion),
    }


# -- whole numbers (`evaluate --numbers`) -----------------------------------------------------

NUMBER_STATUSES = ("ok", "unsure", "not-a-digit", "failed")


def squashed(text: str) -> str:
    """A number's text without its layout: a wide gap's space and a new line are not scored."""
    return "".join(text.split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, one each."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def number_scores(truths: Sequence[str], reads: Sequence[str | None], statuses: Sequence[str]) -> dict[str, Any]:
    """Whole-number and per-digit scores of a reader, as JSON-ready data.

    Args:
        truths: the true text of each picture.
        reads: what was read, ``None`` where the picture could not be read.
        statuses: each answer's status (:data:`NUMBER_STATUSES`; ``failed`` for ``None`` reads).

    Digits are compared position by position only where the count read is right: one lost
    digit would otherwise make every digit after it wrong. Numbers with the wrong count are
    counted apart (``missing``: fewer digits, ``extra``: more), and ``edit_digit_accuracy``
    (1 - edit distance / length, as ``benchmarks/read_accuracy.py``) scores every number.
    """
    right = right_ok = compared = right_digits = missing = extra = edit_errors = total_digits = 0
    counts = dict.fromkeys(NUMBER_STATUSES, 0)
    for truth, read, status in zip(truths, reads, statuses):
        t, r = squashed(truth), squashed(read or "")
        exact = read is not None and r == t
        right += exact
        right_ok += exact and status == "ok"
        counts[status] = counts.get(status, 0) + 1
        total_digits += len(t)
        edit_errors += min(len(t), edit_distance(r, t))
        if len(r) == len(t):
            compared += len(t)
            right_digits += sum(a == b for a, b in zip(r, t))
        elif len(r) < len(t):
            missing += 1
        else:
            extra += 1
    n = len(truths)
    return {
        "numbers": n, "accuracy": _share(right, n), "errors": n - right,
        "digits": total_digits, "digit_accuracy": _share(right_digits, compared), "digits_compared": compared,
        "edit_digit_accuracy": None if not total_digits else 1 - edit_errors / total_digits,
        "count_errors": missing + extra, "missing": missing, "extra": extra,
        "status": counts, "not_ok": n - counts["ok"], "ok_accuracy": _share(right_ok, counts["ok"]),
    }
