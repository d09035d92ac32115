"""Calibration fitted at the end of every fit: one temperature on the validation digits.

A network trained to a low loss is often over-confident: its softmax says 99 % where it
is right 95 % of the time. Temperature scaling (Guo et al., 2017, "On Calibration of
Modern Neural Networks", arXiv:1706.04599) divides the logits by one number T fitted on
held-out digits; it never changes which digit is predicted, only how sure the answer says
it is. The result is recorded in the manifest (``calibration``) and applied by
:func:`digitkit.inference.outputs.calibrate`, the one place inference turns scores into
probabilities.

T minimises the Brier score (squared error of the probabilities), not the NLL Guo et al.
use. Both are proper scoring rules, but the NLL is dominated by the few confident mistakes
of a small validation split, and the validation digits ``fit`` holds out from the MNIST
training file are harder than the test set (every shipped model scores 0.2-1.2 points lower
on them), so the NLL's T came out too high: on the MNIST test set the two small MLPs stayed
at 1.08 % ECE. Fitted by Brier on the same digits, every shipped model's test ECE is lower
(25-15-10 1.09 % -> 0.52 %, dense-relu-dropout 0.86 % -> 0.42 %; docs/pretrained.md).

The test split is never used: it is what calibration is measured on.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from digitkit.evaluation.calibration_error import expected_calibration_error
from digitkit.inference.outputs import TEMPERATURE_RANGE, as_logits, check_outputs, to_probabilities

# Golden-section steps on log T: the bracket [0.05, 20] shrinks to 1e-9 of its width.
_STEPS = 48
MIN_DIGITS = 20  # fewer held-out digits fit noise, not a temperature


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of ``labels`` under ``softmax(logits / temperature)``."""
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float((log_norm - z[np.arange(len(labels)), labels]).mean())


def brier(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean Brier score (squared distance to the one-hot label) of ``softmax(logits / temperature)``."""
    z = np.asarray(logits, np.float64) / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1.0
    return float((p * p).sum(axis=1).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the Brier score of ``labels`` (unimodal in log T, as the NLL).

    Args:
        logits: (N, 10) raw scores (log-probabilities work too).
        labels: (N,) integer classes.
    """
    logits = check_outputs(logits, len(labels), where="the model")
    labels = np.asarray(labels, np.int64)
    low, high = math.log(TEMPERATURE_RANGE[0]), math.log(TEMPERATURE_RANGE[1])
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = brier(logits, labels, math.exp(a)), brier(logits, labels, math.exp(b))
    for _ in range(_STEPS):
        if fa <= fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = brier(logits, labels, math.exp(a))
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = brier(logits, labels, math.exp(b))
    return float(math.exp((low + high) / 2))


def calibration_record(outputs: np.ndarray, labels: np.ndarray, kind: str, *, fitted_on: str) -> dict[str, Any]:
    """Fit a temperature to raw model outputs and describe it as the manifest records it.

    Args:
        outputs: (N, 10) raw outputs of the model on held-out digits.
        labels: their classes.
        kind: ``"logits"``, ``"probabilities"`` or ``"auto"``: what the outputs are.
        fitted_on: which digits, in words (e.g. ``"validation split (1,217 digits)"``).
    """
    outputs = check_outputs(outputs, len(labels), where="the model")
    if kind == "auto":
        kind = "probabilities" if (outputs >= 0).all() and np.allclose(outputs.sum(axis=1), 1, atol=1e-3) \
            else "logits"
    if kind == "probabilities":
        outputs = to_probabilities(outputs, "probabilities").astype(np.float64)
    logits = as_logits(outputs, kind)
    temperature = fit_temperature(logits, labels)
    before = to_probabilities(logits, "logits")
    after = to_probabilities(logits / temperature, "logits")
    return {
        "method": "temperature",
        "objective": "brier",
        "temperature": round(temperature, 6),
        "fitted_on": fitted_on,
        "digits": int(len(labels)),
        "nll": {"before": round(nll(logits, labels), 6), "after": round(nll(logits, labels, temperature), 6)},
        "ece": {"before": round(expected_calibration_error(before, labels), 6),
                "after": round(expected_calibration_error(after, labels), 6)},
    }


def calibrate_model(model: Any, digits: Any, spec: Any, kind: str) -> tuple[dict[str, Any] | None, str | None]:
    """Fit the calibration of a trained Keras model on held-out ``digits``.

    Returns:
        The manifest's ``calibration`` record and ``None``, or ``None`` and a note saying why
        the model stays uncalibrated (no or too few validation digits).
    """
    if digits is None or len(digits) < MIN_DIGITS:
        held = 0 if digits is None else len(digits)
        return None, (f"not calibrated: {held} validation digits (calibration needs {MIN_DIGITS}); "
                      "probabilities are the raw softmax")
    from digitkit.data.adapt import adapt_images

    x = adapt_images(digits.images, spec.input)
    outputs = np.asarray(model.predict(x, batch_size=512, verbose=0))
    record = calibration_record(outputs, np.asarray(digits.labels), kind,
                                fitted_on=f"validation split ({len(digits):,} digits)")
    return record, None
