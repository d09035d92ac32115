"""Score a trained model on a test split and keep the results beside its run.

``evaluate`` loads the model (run id, path or model name), predicts the split, computes
every metric with :mod:`digitkit.evaluation.metrics` and, when the model came from a run, saves
``evaluation.json`` and ``predictions.npz`` there (atomically) for ``report`` to reuse.
The ``evaluation.json`` schema is documented in docs/evaluate.md.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from digitkit import runs
from digitkit._internal import atomic
from digitkit.evaluation import metrics
from digitkit.errors import DigitkitError, InputError, UsageError

SCHEMA = "digitkit.evaluation/1"
PREDICT_BATCH = 512


@dataclass
class Evaluation:
    """What ``evaluate`` measured.

    Attributes:
        data: the ``evaluation.json`` document (see docs/evaluate.md).
        probabilities: (N, 10) float32 class probabilities.
        labels: (N,) int64 true classes.
        images: (N, 28, 28) uint8 digits of the split, for galleries.
        saved_to: the run folder the results were written to, or ``None``.
        notes: lines for the user (e.g. the dataset fell back to the bundled sample).
    """

    data: dict[str, Any]
    probabilities: np.ndarray
    labels: np.ndarray
    images: np.ndarray | None = None
    saved_to: Path | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def metrics(self) -> dict[str, Any]:
        return self.data["metrics"]

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    def misclassified(self, limit: int | None = None) -> np.ndarray:
        """Indices of wrong predictions, most confident mistakes first."""
        wrong = np.flatnonzero(self.predicted != self.labels)
        confidence = self.probabilities[wrong, self.predicted[wrong]]
        order = wrong[np.argsort(-confidence, kind="stable")]
        return order if limit is None else order[:limit]


def predict_probabilities(predictor: Any, digits: np.ndarray) -> tuple[np.ndarray, float]:
    """Checked class probabilities of a :class:`~digitkit.inference.Predictor`, in batches, and the seconds it took."""
    started = time.perf_counter()
    parts = [predictor.predict_proba(digits[i:i + PREDICT_BATCH]) for i in range(0, len(digits), PREDICT_BATCH)]
    seconds = time.perf_counter() - started
    return (np.concatenate(parts) if parts else np.zeros((0, 10), np.float32)), seconds


def predict_both(predictor: Any, digits: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Calibrated and raw-softmax probabilities from one pass of the model, and its seconds."""
    started = time.perf_counter()
    parts = [predictor.scores(digits[i:i + PREDICT_BATCH]) for i in range(0, len(digits), PREDICT_BATCH)]
    seconds = time.perf_counter() - started
    raw = np.concatenate(parts) if parts else np.zeros((0, 10), np.float32)
    return predictor.probabilities(raw), predictor.probabilities(raw, calibrated=False), seconds


def calibration_scores(calibrated: np.ndarray, raw: np.ndarray, labels: np.ndarray,
                       calibration: Any) -> dict[str, Any]:
    """ECE (15 bins) and NLL before and after calibration, and the reliability bins after."""
    from digitkit.evaluation.calibration_error import BINS, expected_calibration_error, reliability_bins

    return {
        "ece": {"before": expected_calibration_error(raw, labels), "after": expected_calibration_error(calibrated, labels),
                "bins": BINS},
        "nll": {"before": metrics.cross_entropy(raw, labels), "after": metrics.cross_entropy(calibrated, labels)},
        "calibration": {**calibration.to_dict(), "reliability": reliability_bins(calibrated, labels)},
    }


def _default_dataset(run: runs.Run | None) -> str | None:
    return run.trained_dataset() if run is not None else None


def evaluate(ref: str, *, dataset: str | None = None, split: str = "test", top_k: int = 3,
             save: bool = True, backend: str = "auto") -> Evaluation:
    """Evaluate a trained model on one split.

    Args:
        ref: a run id, a ``.keras`` path, a run folder, or a model name (its latest run).
        dataset: dataset name or IDX folder; defaults to the one the run trained on.
        split: ``"test"`` (default) or ``"train"``.
        top_k: the k of top-k accuracy.
        save: write ``evaluation.json`` and ``predictions.npz`` into the run, if any.
        backend: ``"auto"`` (LiteRT when the run has an up-to-date ``model.tflite``),
            ``"litert"`` or ``"keras"``; see :func:`digitkit.inference.load`.

    Raises:
        UsageError: bad ``top_k``, unknown dataset or split.
        ModelRefusedError: the model cannot be loaded, or its outputs contain NaN.
    """
    if not isinstance(top_k, int) or top_k < 1 or top_k > 10:
        raise UsageError(f"expected 1 <= top_k <= 10. Received: top_k={top_k!r}")
    from digitkit.data import load_digits
    from digitkit.inference import load

    predictor = load(ref, backend)
    digits = load_digits(dataset or _default_dataset(predictor.run), split)
    if len(digits) == 0:
        raise InputError(f"the {split} split of {digits.dataset!r} holds no digits")
    probabilities, raw, seconds = predict_both(predictor, digits.images)
    scores = metrics.score(probabilities, digits.labels, top_k=top_k)
    scores.update(calibration_scores(probabilities, raw, np.asarray(digits.labels, np.int64), predictor.calibration))
    data = {
        "schema": SCHEMA,
        "created": runs.now_iso(),
        **answered_by(predictor),
        "dataset": {"name": digits.dataset, "split": split, "source": digits.source, "size": len(digits),
                    "fingerprint": digits.fingerprint()},
        **scores,
        "timing": {"predict_seconds": seconds, "ms_per_digit": 1000.0 * seconds / len(digits),
                   "batch_size": PREDICT_BATCH},
        "notes": list(digits.notes),
    }
    evaluation = Evaluation(data, probabilities, digits.labels, digits.images,
                            notes=(*predictor.notes, *digits.notes))
    if save:
        save_or_note(evaluation, predictor.run, save_evaluation)
    return evaluation


def answered_by(predictor: Any) -> dict[str, Any]:
    """Which model answered, as every saved evaluation records it (digits and numbers)."""
    return {"model": predictor.name, "run": predictor.run_id, "answered_by": predictor.ref.label,
            "model_path": str(predictor.ref.model_path), "backend": predictor.backend}


def save_or_note(evaluation: Any, run: runs.Run | None, save: Callable[[Any, runs.Run], None]) -> None:
    """``save(evaluation, run)`` when the model came from a run; a failure becomes one of the
    evaluation's notes: a read-only or full home must not throw the result away."""
    if run is None:
        return
    try:
        save(evaluation, run)
    except DigitkitError as exc:
        evaluation.notes = (*evaluation.notes, f"not saved: {exc.message}")


def save_evaluation(evaluation: Evaluation, run: runs.Run) -> None:
    """Write ``predictions.npz`` then ``evaluation.json`` (the JSON last: it marks completion)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, probabilities=evaluation.probabilities.astype(np.float32),
                        labels=evaluation.labels.astype(np.int64),
                        indices=np.arange(len(evaluation.labels), dtype=np.int64))
    atomic.write_bytes(run.file(runs.PREDICTIONS), buffer.getvalue())
    run.write(runs.EVALUATION, evaluation.data)
    evaluation.saved_to = run.path


def load_evaluation(run: runs.Run) -> Evaluation | None:
    """The evaluation saved in a run, or ``None`` when there is none (or it is unreadable).

    Images are not stored; callers that need them load the split named in ``data``.
    """
    try:
        data = run.read(runs.EVALUATION)
    except InputError:  # a damaged file is as good as none: the report evaluates again
        return None
    npz = run.file(runs.PREDICTIONS)
    if not data or data.get("schema") != SCHEMA or not npz.exists():
        return None
    try:
        with np.load(npz, allow_pickle=False) as arrays:
            probabilities, labels = arrays["probabilities"], arrays["labels"]
    except (OSError, ValueError, KeyError):
        return None
    return Evaluation(data, probabilities, labels, saved_to=run.path, notes=tuple(data.get("notes", ())))
