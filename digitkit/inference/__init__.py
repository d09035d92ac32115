"""Running trained digit models: one checked path from a MODEL argument to probabilities.

- :mod:`~digitkit.inference.refs`: what a MODEL argument means (run, file, name, pretrained);
- :mod:`~digitkit.inference.predictor`: :class:`Predictor` and :func:`load`;
- :mod:`~digitkit.inference.litert_backend` / :mod:`~digitkit.inference.keras_backend`;
- :mod:`~digitkit.inference.outputs`: the one logits-to-probabilities and output check;
- :mod:`~digitkit.inference.batch`: predicting image files in streamed, parallel chunks.

Whether a model file may be loaded at all is decided by :mod:`digitkit.modelfiles`, the one
gate. Importing this package does not import TensorFlow.
"""

from __future__ import annotations

from digitkit.inference.predictor import BACKENDS, Predictor, load
from digitkit.inference.refs import ModelRef, resolve

__all__ = ["BACKENDS", "ModelRef", "Predictor", "load", "resolve"]
