"""Scoring a model on a test set: :func:`evaluate` (``digitkit.evaluate``) and the metrics behind it.

- :mod:`~digitkit.evaluation.scoring`: run a model over a dataset, save ``evaluation.json``;
- :mod:`~digitkit.evaluation.numbers`: a reader scored on pictures of numbers whose true text
  is known (``evaluate --numbers``), saved as ``numbers-evaluation.json``;
- :mod:`~digitkit.evaluation.metrics`: accuracy, confusions, per-class precision/recall/F1
  (pure numpy; never prints).
"""

from __future__ import annotations

from digitkit.evaluation.numbers import (
    NumbersEvaluation, evaluate_numbers, load_numbers_evaluation, save_numbers_evaluation,
)
from digitkit.evaluation.scoring import Evaluation, evaluate, load_evaluation, predict_probabilities, save_evaluation

__all__ = ["Evaluation", "NumbersEvaluation", "evaluate", "evaluate_numbers", "load_evaluation",
           "load_numbers_evaluation", "predict_probabilities", "save_evaluation", "save_numbers_evaluation"]
