"""Train several models the same way, score them on the same test split, compare them.

``bench`` trains each model (its recipe, a fixed number of epochs, or ``quick``: one epoch
on a subset), evaluates it, times single-digit prediction, and writes a multi-run report
plus ``bench.json`` into one folder.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from digitkit import home, runs
from digitkit._internal import atomic
from digitkit.errors import DigitkitError, UsageError

QUICK_EPOCHS = 1
QUICK_TRAIN_SIZE = 2000
QUICK_MEANS = f"--quick: {QUICK_EPOCHS} epoch on {QUICK_TRAIN_SIZE:,} training digits per model, a rough comparison"
LATENCY_CALLS = 20



@dataclass
class BenchEntry:
    """One model's line in the leaderboard."""

    model: str
    run: str | None = None
    accuracy: float | None = None
    loss: float | None = None
    params: int | None = None
    train_seconds: float | None = None
    latency_ms: float | None = None
    error: str | None = None


@dataclass
class BenchResult:
    entries: list[BenchEntry]
    out_dir: Path
    report: Any = None  # digitkit.report.ReportResult
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[BenchEntry]:
        return [e for e in self.entries if e.error]


def train_model(model_name: str, *, epochs: int | None, dataset: str | None, quick: bool, seed: int) -> runs.Run:
    """Adapter over ``digitkit.training.fit``: one trained, completed run.

    Kept small and separate so tests can swap in a plain-Keras trainer, and so the fit
    interface is touched in one place only.
    """
    from digitkit.training import fit

    # fit's default progress is silent: bench prints its own status lines.
    result = fit(model_name, dataset=dataset, epochs=QUICK_EPOCHS if quick else epochs, seed=seed,
                 train_size=QUICK_TRAIN_SIZE if quick else None)
    run = runs.Run(Path(result.run_path))
    # A comparison run never becomes what a bare model name means (runs.Manifest.trial).
    run.update_manifest(purpose="bench", quick=quick)
    return run


def time_prediction(ref: str, images: Any) -> float:
    """Median milliseconds to classify one digit, as `digitkit predict` does it (after a warm-up call)."""
    from digitkit.inference import load

    predictor = load(ref)
    x = images[:1]
    predictor.predict_proba(x)  # the first call allocates (LiteRT) or traces the graph (Keras)
    times = []
    for _ in range(LATENCY_CALLS):
        started = time.perf_counter()
        predictor.predict_proba(x)
        times.append(1000.0 * (time.perf_counter() - started))
    return statistics.median(times)


def _bench_one(name: str, *, epochs: int | None, dataset: str | None, quick: bool, seed: int) -> BenchEntry:
    from digitkit.evaluation import evaluate

    run = train_model(name, epochs=epochs, dataset=dataset, quick=quick, seed=seed)
    evaluation = evaluate(str(run.path), dataset=dataset)
    manifest = run.manifest
    return BenchEntry(model=name, run=run.id, accuracy=evaluation.metrics["accuracy"],
                      loss=evaluation.metrics["loss"], params=(manifest.get("spec") or {}).get("params"),
                      train_seconds=manifest.get("duration_s"),
                      latency_ms=time_prediction(str(run.path), evaluation.images))


def bench(models: Sequence[str] | None = None, *, epochs: int | None = None, quick: bool = False,
          dataset: str | None = None, out: str | Path | None = None, seed: int = 0,
          on_model: Callable[[str, int, int], None] | None = None) -> BenchResult:
    """Train, evaluate and time each model, then write the leaderboard report.

    Args:
        models: model names; default every installed model.
        epochs: epochs for every model (default: each recipe's own).
        quick: one epoch on a subset of the training data; for a fast comparison.
        dataset: dataset for training and testing (default: the default dataset).
        out: folder for ``report.html`` and ``bench.json`` (default ``<home>/bench/<time>``).
        seed: the seed every model trains with.
        on_model: called with (model name, position, count) before each model starts.

    Raises:
        UsageError: conflicting options or an unknown model.
        DigitkitError: every model failed (the first failure's message).
    """
    from digitkit.plugins import registry

    if quick and epochs is not None:
        raise UsageError("--quick and --epochs cannot be used together", hint="--quick means 1 epoch on a subset")
    if epochs is not None and epochs < 1:
        raise UsageError(f"expected epochs >= 1. Received: epochs={epochs}")
    names = list(dict.fromkeys(models)) if models else [m.spec.name for m in registry.list_models()]
    from digitkit.training.options import FitOptions

    for name in names:  # unknown names, bad seeds or datasets fail before TensorFlow loads
        FitOptions(model=name, epochs=epochs, dataset=dataset, seed=seed).check()
    out_dir = Path(out).expanduser() if out else home.home_dir() / "bench" / f"{datetime.now():%Y%m%d-%H%M%S}"
    entries = []
    for position, name in enumerate(names, 1):
        if on_model:
            on_model(name, position, len(names))
        try:
            entries.append(_bench_one(name, epochs=epochs, dataset=dataset, quick=quick, seed=seed))
        except DigitkitError as exc:  # one broken model must not cost the others their results
            entries.append(BenchEntry(model=name, error=str(exc)))
    if all(e.error for e in entries):
        raise DigitkitError(f"every model failed; first: {entries[0].model}: {entries[0].error}")
    entries.sort(key=lambda e: (e.error is not None, -(e.accuracy or 0.0)))
    done = [e for e in entries if not e.error]  # ranked: the report's cards and sections follow the leaderboard
    result = BenchResult(entries=entries, out_dir=out_dir)
    from digitkit.report import build_report

    result.report = build_report([e.run for e in done], fmt="html", out=out_dir / "report.html")
    result.notes = result.report.notes
    atomic.write_json(out_dir / "bench.json", {
        "created": runs.now_iso(), "quick": quick, "epochs": epochs, "dataset": dataset, "seed": seed,
        "entries": [asdict(e) for e in entries], "report": str(result.report.paths[0])})
    return result
