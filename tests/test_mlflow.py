"""`fit --mlflow URI`: parameters, metrics per epoch, manifest, model files and the report in an
MLflow run, read back through ``MlflowClient`` from a local ``file:`` store."""

from __future__ import annotations

import sys

import pytest

from digitkit.errors import EXIT_UNAVAILABLE, Interrupted
from digitkit.training import fit

SETTINGS = {"seed": 3, "train_size": 320, "test_size": 100, "batch_size": 32}


@pytest.fixture
def store(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    # MLflow 3 keeps its file store only on request; a local folder keeps these tests offline.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return f"file:{tmp_path / 'mlruns'}"


def mlflow_run(store: str, run_id: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("digitkit")
    found = client.search_runs([experiment.experiment_id], filter_string=f"tags.`digitkit.run_id` = '{run_id}'")
    assert len(found) == 1, [r.info.run_id for r in found]
    return client, found[0]


@pytest.mark.slow
def test_mlflow_run_holds_params_metrics_files_and_report(home, store):
    from digitkit.report import build_report

    result = fit("25-15-10", epochs=2, mlflow=store, **SETTINGS)
    client, logged = mlflow_run(store, result.run_id)
    assert logged.info.status == "FINISHED"
    params = logged.data.params
    assert params["model"] == "25-15-10" and params["seed"] == "3" and params["batch_size"] == "32"
    loss = client.get_metric_history(logged.info.run_id, "loss")
    assert [m.step for m in loss] == [1, 2]
    assert [m.value for m in loss] == pytest.approx(result.history["loss"])
    assert [m.step for m in client.get_metric_history(logged.info.run_id, "val_accuracy")] == [1, 2]
    assert logged.data.metrics["test_accuracy"] == pytest.approx(result.test_metrics["accuracy"])
    files = {f.path for f in client.list_artifacts(logged.info.run_id)}
    assert {"manifest.json", "history.json", "metrics.json", "model"} <= files
    assert "model/model.keras" in {f.path for f in client.list_artifacts(logged.info.run_id, "model")}
    assert result.run.manifest["mlflow"]["run_id"] == logged.info.run_id

    report = build_report(result.run_id)
    assert f"report added to MLflow run {logged.info.run_id}" in report.notes
    assert "report/report.html" in {f.path for f in client.list_artifacts(logged.info.run_id, "report")}


@pytest.mark.slow
def test_mlflow_resume_continues_the_same_run_without_repeating_epochs(home, store, monkeypatch):
    import os
    import signal

    import keras

    class SigintAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)  # the environment alone asks for MLflow
    with pytest.raises(Interrupted):
        fit("25-15-10", epochs=3, callbacks=[SigintAfterFirstEpoch()], **SETTINGS)
    from digitkit import runs

    (run,) = runs.list_runs()
    _, interrupted = mlflow_run(store, run.id)
    assert interrupted.info.status == "KILLED"
    result = fit(resume=run.id)
    client, logged = mlflow_run(store, run.id)
    assert logged.info.run_id == interrupted.info.run_id and logged.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(logged.info.run_id, "loss")] == [1, 2, 3]
    assert result.epochs_completed == 3


def test_mlflow_without_the_extra_is_a_one_line_hint_before_training(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow...` raises ImportError
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    result = cli("fit", "25-15-10", "--mlflow", "file:/tmp/nowhere", "--epochs", "1")
    assert result.exit_code == EXIT_UNAVAILABLE
    assert "needs the mlflow extra" in result.stderr and "pip install 'digitkit[mlflow]'" in result.stderr
    assert "Traceback" not in result.stderr and "epoch" not in result.stderr
