"""Model outputs to class probabilities: the one place that checks them.

Every path that runs a model (predict, evaluate, export's parity check, bench, report,
serve, the conformance kit) turns raw outputs into probabilities here, so a broken model
is refused the same way everywhere: ``argmax`` of an all-NaN row is 0, and a model with
1,000 outputs would otherwise "predict 62".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from digitkit.errors import ModelRefusedError

NUM_CLASSES = 10
OUTPUT_KINDS = ("logits", "probabilities", "auto")


def check_outputs(outputs: object, rows: int, *, where: str = "the model") -> np.ndarray:
    """Refuse outputs that are not ``rows`` finite scores for the 10 digit classes.

    Args:
        outputs: what the model returned for ``rows`` inputs.
        rows: how many inputs it was given.
        where: what produced them, to start the message with.

    Returns:
        The outputs as a float64 (rows, 10) array.

    Raises:
        ModelRefusedError: wrong shape, or NaN/infinite scores (naming how many rows).
    """
    array = np.asarray(outputs, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != NUM_CLASSES or array.shape[0] != rows:
        shape = "(" + ", ".join(str(d) for d in array.shape) + ")"
        raise ModelRefusedError(
            f"{where} returned outputs of shape {shape} for {rows} digits; a digit model returns "
            f"({rows}, {NUM_CLASSES}), one score per digit class", hint="it was made for another task")
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise ModelRefusedError(
            f"{where} produced NaN or infinite outputs for {int(bad.sum()):,} of {rows:,} digits; it is broken, "
            "so no digit is predicted", hint="did training diverge? retrain it, e.g. with a lower --learning-rate")
    return array


def _looks_like_probabilities(array: np.ndarray) -> bool:
    return bool((array >= 0).all() and np.allclose(array.sum(axis=1), 1.0, atol=1e-3))


def _checked_kind(outputs: Any, kind: str, rows: int | None, where: str) -> tuple[np.ndarray, str]:
    """The outputs checked (:func:`check_outputs`) and ``"auto"`` resolved to what they are."""
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"expected kind in {OUTPUT_KINDS}. Received: kind={kind!r}")
    array = np.asarray(outputs)
    array = check_outputs(array, len(array) if rows is None else rows, where=where)
    if kind == "auto":
        kind = "probabilities" if _looks_like_probabilities(array) else "logits"
    return array, kind


def to_probabilities(outputs: object, kind: str, rows: int | None = None, *, where: str = "the model") -> np.ndarray:
    """Checked class probabilities (float32, rows sum to 1) from raw model outputs.

    Args:
        outputs: raw outputs, (N, 10).
        kind: ``"logits"`` (softmax applied), ``"probabilities"`` (renormalised: a float32
            softmax may be off by 1e-7) or ``"auto"`` (probabilities when every row is
            non-negative and sums to 1, else logits).
        rows: the number of inputs; defaults to the number of output rows.
        where: what produced them, for messages.

    Raises:
        ModelRefusedError: see :func:`check_outputs`.
    """
    array, kind = _checked_kind(outputs, kind, rows, where)
    if kind == "logits":
        exp = np.exp(array - array.max(axis=1, keepdims=True))
        probabilities = exp / exp.sum(axis=1, keepdims=True)
    else:
        probabilities = np.clip(array, 0.0, None)
        total = probabilities.sum(axis=1, keepdims=True)
        if (total <= 0).any():
            raise ModelRefusedError(f"{where} returned an all-zero probability row; it is broken")
        probabilities = probabilities / total
    return probabilities.astype(np.float32)


# --- calibration -------------------------------------------------------------------------
# A raw softmax is not a probability anyone has checked. Every fit ends by fitting a
# temperature T on held-out digits (digitkit.training.calibration), recorded in the run's
# manifest, and the shipped weights carry theirs in their cards; probabilities are then
# softmax(logits / T) (for a model that outputs probabilities, softmax(log p / T)).
TEMPERATURE_RANGE = (0.05, 20.0)  # anything outside is not a temperature fit would write
_LOG_FLOOR = 1e-300  # log(0) is -inf; far below any probability a float32 model gives


@dataclass(frozen=True)
class Calibration:
    """How a model's raw scores become calibrated probabilities.

    Attributes:
        temperature: logits are divided by it before the softmax (1.0: unchanged).
        source: where it comes from: ``"run"`` (the run's manifest), ``"pretrained"``
            (the model card), ``"file"`` (baked into an exported file) or ``"none"``.
    """

    temperature: float = 1.0
    source: str = "none"

    @property
    def identity(self) -> bool:
        return self.temperature == 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"method": "temperature", "temperature": round(self.temperature, 6), "source": self.source}

    @classmethod
    def from_record(cls, record: Any, source: str) -> "Calibration":
        """The calibration a manifest or model card records (``None`` or unusable: none).

        A damaged record must not stop a model from answering: it is read as no calibration.
        """
        if not isinstance(record, dict):
            return cls()
        temperature = record.get("temperature")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
            return cls()
        if not (math.isfinite(temperature) and TEMPERATURE_RANGE[0] <= temperature <= TEMPERATURE_RANGE[1]):
            return cls()
        return cls(float(temperature), source)


NO_CALIBRATION = Calibration()


def as_logits(outputs: np.ndarray, kind: str) -> np.ndarray:
    """Checked outputs as logits: probabilities become their logarithm (a softmax inverts it)."""
    if kind == "probabilities":
        return np.log(np.clip(outputs, _LOG_FLOOR, None))
    return outputs


def calibrate(outputs: object, kind: str, calibration: Calibration = NO_CALIBRATION, rows: int | None = None, *,
              where: str = "the model") -> np.ndarray:
    """Checked, calibrated class probabilities (float32, rows sum to 1) from raw outputs.

    The one place every path (both backends, evaluate, export's parity check, serve) turns
    raw scores into the probabilities users see.

    Raises:
        ModelRefusedError: see :func:`check_outputs`.
    """
    if calibration.identity:
        return to_probabilities(outputs, kind, rows, where=where)
    array, kind = _checked_kind(outputs, kind, rows, where)
    if kind == "probabilities":  # renormalised in float64: float32 would lose the small ones
        to_probabilities(array, "probabilities", where=where)  # refuses an all-zero row
        array = np.clip(array, 0.0, None)
        array = array / array.sum(axis=1, keepdims=True)
    return to_probabilities(as_logits(array, kind) / calibration.temperature, "logits", where=where)
