"""Whether an answer can be acted on: ``ok``, ``unsure`` or ``not-a-digit``, decided here only.

Every path that shows an answer (predict's table, JSON, CSV; ``read``'s digits; serve)
asks :meth:`digitkit.inference.Predictor.answer`, which calls :func:`status_of` on the
calibrated probabilities. The thresholds live in this module and nowhere else:

- ``not-a-digit``: the picture does not look like one digit. The model cannot pick one
  digit (calibrated confidence under :data:`NOT_A_DIGIT_BELOW`), or the ink falls in
  separate pieces side by side, as several digits do (:func:`looks_like_several`).
- ``unsure``: a digit, but the calibrated confidence is under the threshold
  (:data:`DEFAULT_MIN_CONFIDENCE`, or the caller's ``min_confidence``): a person should look.
- ``ok``: act on it.

How the defaults were chosen (figures in docs/predict.md#answers-you-can-act-on, measured by
``benchmarks/nondigits.py``): the calibrated confidence of ``cnn-best`` separates
real-world digits from the project's non-digit set with an AUROC of 0.95 (0.88 with the
first edition's weights, where an energy score, 0.88, and a class-conditional shape
distance, 0.86, did no better); the several-pieces
check catches 98 % of digit pairs and 0.1 % of real digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

OK, UNSURE, NOT_A_DIGIT = "ok", "unsure", "not-a-digit"
STATUSES = (OK, UNSURE, NOT_A_DIGIT)
# The smallest threshold at which 99.5 % of cnn-best's ok answers are right on every
# real-world kind of its *validation* digits (`python benchmarks/nondigits.py --choose`),
# for the second edition's weights and temperature (0.985 for the first edition's). On the
# test-derived sets: 99.62-100 % right, 90 % of non-digits flagged, 10-21 % of real digits
# of the five capture kinds left unsure (docs/predict.md#answers-you-can-act-on).
DEFAULT_MIN_CONFIDENCE = 0.999
# Under this the model spreads its belief over several digits: not one digit it knows.
NOT_A_DIGIT_BELOW = 0.5
# A gap of empty columns this wide, with ink on both sides, splits two digits side by side.
_GAP_COLUMNS = 2
_INK = 0.2
_PIECE_SHARE = 0.2  # each side of the gap holds at least this share of the ink


def looks_like_several(digits: np.ndarray) -> np.ndarray:
    """Per digit (N, side, side) in [0, 1]: whether its ink is split by an empty vertical gap
    into two substantial pieces, as two digits side by side are (one digit never is: its
    strokes touch, and the intake keeps only the large pieces of a picture)."""
    digits = np.asarray(digits)
    if digits.ndim != 3 or not len(digits):
        return np.zeros(len(digits), bool)
    ink = digits > (_INK * 255 if digits.dtype == np.uint8 else _INK)
    columns = ink.sum(axis=1)  # (N, side)
    filled = columns > 0
    total = columns.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(columns, axis=1)
    # Every window of _GAP_COLUMNS columns starting at 1..side-_GAP_COLUMNS-1, all at once.
    side, gap = digits.shape[2], _GAP_COLUMNS
    starts = np.arange(1, side - gap)
    empty = ~np.any(np.stack([filled[:, starts + k] for k in range(gap)]), axis=0)
    left = cumulative[:, starts - 1]
    right = total - cumulative[:, starts + gap - 1]
    enough = _PIECE_SHARE * total
    return (empty & (left >= enough) & (right >= enough) & (total > 0)).any(axis=1)


def status_of(probabilities: np.ndarray, digits: np.ndarray | None = None,
              min_confidence: float | None = None) -> list[str]:
    """The status of each answer (see the module docstring for the rule).

    Args:
        probabilities: (N, 10) calibrated probabilities.
        digits: the (N, side, side) digits the model saw, for the picture checks (optional).
        min_confidence: the ``unsure`` threshold (default :data:`DEFAULT_MIN_CONFIDENCE`).
    """
    threshold = DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence
    confidence = np.asarray(probabilities).max(axis=1) if len(probabilities) else np.zeros(0)
    several = looks_like_several(digits) if digits is not None else np.zeros(len(confidence), bool)
    return [NOT_A_DIGIT if c < NOT_A_DIGIT_BELOW or s else UNSURE if c < threshold else OK
            for c, s in zip(confidence.tolist(), several.tolist())]


def summary_note(statuses: list[str] | tuple[str, ...]) -> str | None:
    """One line (under 80 columns) when some answers cannot be acted on, or ``None``."""
    unsure, other = statuses.count(UNSURE), statuses.count(NOT_A_DIGIT)
    if not unsure and not other:
        return None
    parts = ([f"{unsure:,} unsure"] if unsure else []) + ([f"{other:,} not a digit"] if other else [])
    if other:
        return f"{', '.join(parts)} of {len(statuses):,} (several digits: digitkit read)"
    return f"{parts[0]} of {len(statuses):,} answers: a person should look"


@dataclass(frozen=True)
class DigitAnswer:
    """One digit's answer: the calibrated probabilities, its status and the threshold used."""

    probabilities: np.ndarray
    status: str
    threshold: float

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    def to_dict(self) -> dict[str, Any]:
        return {"digit": self.digit, "confidence": round(self.confidence, 6), "status": self.status,
                "threshold": self.threshold, "probabilities": [round(float(p), 6) for p in self.probabilities]}


@dataclass(frozen=True)
class Answers:
    """Answers for a batch: (N, 10) calibrated probabilities, a status each, one threshold."""

    probabilities: np.ndarray
    statuses: tuple[str, ...]
    threshold: float

    @classmethod
    def of(cls, probabilities: np.ndarray, digits: np.ndarray | None, min_confidence: float | None) -> "Answers":
        threshold = DEFAULT_MIN_CONFIDENCE if min_confidence is None else float(min_confidence)
        return cls(probabilities, tuple(status_of(probabilities, digits, threshold)), threshold)

    def __len__(self) -> int:
        return len(self.statuses)

    def __getitem__(self, i: int) -> DigitAnswer:
        return DigitAnswer(self.probabilities[i], self.statuses[i], self.threshold)

    def __iter__(self) -> Iterator[DigitAnswer]:
        return (self[i] for i in range(len(self)))
