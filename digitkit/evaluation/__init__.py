"""Scoring a model on a test set: :func:`evaluate` (``digitkit.evaluate``) and the metrics behind it.

- :mod:`~digitkit.evaluation.scoring`: run a model over a dataset, save ``evaluation.json``;
- :mod:`~digitkit.evaluation.metrics`: accuracy, confusions, per-class precision/recall/F1
  (pure numpy; never prints).
"""

from __future__ import annotations

from digitkit.evaluation.scoring import Evaluation, evaluate, load_evaluation, predict_probabilities, save_evaluation

__all__ = ["Evaluation", "evaluate", "load_evaluation", "predict_probabilities", "save_evaluation"]
