"""An MLflow run for a fit, when asked (``fit --mlflow URI`` or ``MLFLOW_TRACKING_URI``).

Parameters at the start, metrics after every epoch (step = epoch), and at the end the test
metrics, the manifest, the history and the model files.
``digitkit report RUN`` later adds the report to the same MLflow run (the manifest's
``mlflow`` record says which). A resumed fit continues its MLflow run (found by the tag
``digitkit.run_id``), so epochs are never logged twice.

Everything goes through ``MlflowClient`` (no fluent ``mlflow.start_run`` state shared with the
caller's own MLflow use). mlflow is an extra (``pip install 'digitkit[mlflow]'``); it is
imported only here, only when asked.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from digitkit import runs
from digitkit.errors import UnavailableError, UsageError
from digitkit.training.progress import FitPlan, FitProgress

EXPERIMENT = "digitkit"
TAG = "digitkit.run_id"
HINT = "pip install 'digitkit[mlflow]'"
# What a finished run sends, beside the model files: small, and what a reader opens first.
RUN_FILES = (runs.MANIFEST, runs.HISTORY_JSON, runs.HISTORY_CSV, runs.METRICS)
MODEL_FILES = (runs.MODEL, runs.BEST, runs.TFLITE)


def tracking_uri(option: str | None) -> tuple[str | None, bool]:
    """The URI to log to and whether the user asked on the command line (else: the environment)."""
    if option:
        return option, True
    return os.environ.get("MLFLOW_TRACKING_URI") or None, False


def client_for(uri: str) -> Any:
    """An ``MlflowClient`` for ``uri``, checked now (before any training) with one request.

    Raises:
        UnavailableError: mlflow is not installed, or the tracking server does not answer.
        UsageError: MLflow refuses the URI.
    """
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UnavailableError("logging to MLflow needs the mlflow extra", hint=HINT) from None
    try:
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(EXPERIMENT)
        client.experiment_id = experiment.experiment_id if experiment else client.create_experiment(EXPERIMENT)
    except MlflowException as exc:
        first = str(exc.message if hasattr(exc, "message") else exc).split(". ")[0].strip()
        hint = "set MLFLOW_ALLOW_FILE_STORE=true for a file: store" if "filesystem tracking backend" in first \
            else None
        raise UsageError(f"MLflow refused {uri}: {first[:200]}", hint=hint) from None
    except Exception as exc:  # connection refused, DNS, timeouts: MLflow raises many kinds
        raise UnavailableError(f"MLflow at {uri} did not answer: {type(exc).__name__}: {str(exc)[:160]}") from None
    return client


class MlflowLog(FitProgress):
    """Logs one fit to MLflow through ``client`` (see :func:`client_for`)."""

    label = "MLflow log"

    def __init__(self, client: Any, uri: str) -> None:
        self.client, self.uri = client, uri
        self.plan: FitPlan | None = None
        self.run_id: str | None = None

    def start(self, plan: FitPlan) -> None:
        self.plan = plan

    def fitting(self, model: Any, config: Any, data: Any) -> None:
        from mlflow.entities import Param

        from digitkit.training.tensorboard_log import hparams_of

        plan = self.plan
        if plan is None:
            return
        found = self.client.search_runs([self.client.experiment_id], filter_string=f"tags.`{TAG}` = '{plan.run_id}'",
                                        max_results=1)
        if found:  # a resumed fit continues its MLflow run
            self.run_id = found[0].info.run_id
            self.client.update_run(self.run_id, status="RUNNING")
            return
        created = self.client.create_run(self.client.experiment_id, run_name=config.name or plan.run_id,
                                         tags={TAG: plan.run_id, "digitkit.model": plan.model})
        self.run_id = created.info.run_id
        params = {**hparams_of(config), "train_size": plan.train_size, "validation_size": plan.validation_size,
                  "test_size": plan.test_size, "steps_per_epoch": plan.steps_per_epoch}
        self.client.log_batch(self.run_id, params=[Param(k, str(v)) for k, v in params.items()])
        runs.Run(Path(plan.run_path)).update_manifest(mlflow={"tracking_uri": self.uri, "run_id": self.run_id,
                                                              "experiment_id": self.client.experiment_id})

    def epoch_end(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        if self.run_id is None:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        values = {**logs, "epoch_seconds": seconds}
        self.client.log_batch(self.run_id, metrics=[Metric(k, float(v), now, epoch) for k, v in values.items()])

    def end(self, result: Any) -> None:
        if self.run_id is None:
            return
        if result is None:  # interrupted or diverged: the run can resume, MLflow's too
            self.client.set_terminated(self.run_id, status="KILLED")
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(f"test_{k}", float(v), now, result.epochs_completed)
                                                    for k, v in result.test_metrics.items()])
        folder = Path(result.run_path)
        for name in RUN_FILES:
            if (folder / name).is_file():
                self.client.log_artifact(self.run_id, str(folder / name))
        for name in MODEL_FILES:
            if (folder / name).is_file():
                self.client.log_artifact(self.run_id, str(folder / name), artifact_path="model")
        self.client.set_terminated(self.run_id, status="FINISHED")


def log_report(run: runs.Run, paths: list[Path]) -> str | None:
    """Add report files to the MLflow run the fit of ``run`` logged to; returns its id, or
    None when the run was not logged to MLflow (or mlflow is not installed here)."""
    link = run.manifest.get("mlflow")
    if not isinstance(link, dict) or not isinstance(link.get("run_id"), str):
        return None
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        return None
    client = MlflowClient(tracking_uri=str(link.get("tracking_uri")))
    for path in paths:
        if path.is_file():
            client.log_artifact(link["run_id"], str(path), artifact_path="report")
        elif path.is_dir():
            client.log_artifacts(link["run_id"], str(path), artifact_path=f"report/{path.name}")
    return link["run_id"]
