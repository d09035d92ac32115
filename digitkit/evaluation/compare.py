"""Runs side by side (``digitkit runs compare``): what each trained on, how long, how well.

Everything comes from what the runs already hold: the manifest (model, data, epochs, time,
parameters, test accuracy) and, when ``evaluate`` or ``report`` saved one, the evaluation
(per-class F1 and the calibration error, from the saved probabilities). Nothing is trained
or evaluated here, and TensorFlow is never imported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from digitkit import runs
from digitkit.errors import UsageError
from digitkit.evaluation.calibration_error import expected_calibration_error


@dataclass
class RunSummary:
    """One run's column. ``ece`` and ``per_class_f1`` are ``None`` without a saved evaluation."""

    id: str
    model: str
    name: str | None
    status: str
    dataset: str | None
    train_size: int | None
    epochs: int
    epochs_planned: int | None
    duration_s: float | None
    params: int | None
    test_accuracy: float | None
    ece: float | None = None
    per_class_f1: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    """The runs in the order given, and what the reader should know (missing evaluations)."""

    runs: list[RunSummary]
    notes: list[str] = field(default_factory=list)

    def f1_differences(self) -> list[list[float | None]]:
        """Per digit, each run's F1 minus the first run's (``None`` where either is missing)."""
        base = self.runs[0].per_class_f1
        return [[(f1[d] - base[d]) if f1 is not None and base is not None else None for d in range(len(base or []))]
                for f1 in (r.per_class_f1 for r in self.runs)]

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [r.to_dict() for r in self.runs], "f1_vs_first": self.f1_differences(), "notes": self.notes}


def summarize(run: runs.Run) -> tuple[RunSummary, str | None]:
    """One run's summary, and a note when it has no saved evaluation."""
    from digitkit.evaluation.scoring import load_evaluation

    manifest = run.manifest
    dataset = manifest.get("dataset") if isinstance(manifest.get("dataset"), dict) else {}
    test = manifest.get("test_metrics") if isinstance(manifest.get("test_metrics"), dict) else {}
    spec = manifest.get("spec") if isinstance(manifest.get("spec"), dict) else {}
    summary = RunSummary(
        id=run.id, model=str(manifest.get("model", "?")), name=manifest.get("name"),
        status=str(manifest.get("status", "?")), dataset=run.trained_dataset() or dataset.get("name"),
        train_size=dataset.get("train_size"), epochs=int(manifest.get("epochs_completed") or 0),
        epochs_planned=manifest.get("epochs_planned"), duration_s=manifest.get("duration_s"),
        params=spec.get("params"), test_accuracy=test.get("accuracy"))
    evaluation = load_evaluation(run)
    if evaluation is None:
        return summary, f"{run.id}: no saved evaluation (per-class F1, calibration): `digitkit evaluate {run.id}`"
    summary.per_class_f1 = [float(r["f1"]) for r in evaluation.data.get("per_class", [])]
    summary.ece = expected_calibration_error(evaluation.probabilities, evaluation.labels)
    if summary.test_accuracy is None:
        summary.test_accuracy = evaluation.data.get("metrics", {}).get("accuracy")
    return summary, None


def compare_runs(refs: Sequence[str]) -> Comparison:
    """Two or more runs side by side, in the order given.

    Raises:
        UsageError: fewer than two distinct runs, or a name that is not a run.
    """
    chosen: list[runs.Run] = []
    for ref in refs:
        run = runs.get_run(ref)
        if run.path not in (c.path for c in chosen):
            chosen.append(run)
    if len(chosen) < 2:
        raise UsageError("expected two or more runs to compare", hint="see `digitkit runs` for their ids")
    comparison = Comparison([])
    for run in chosen:
        summary, note = summarize(run)
        comparison.runs.append(summary)
        if note:
            comparison.notes.append(note)
    return comparison
