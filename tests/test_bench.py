"""`digitkit bench` with a plain-Keras trainer standing in for `digitkit.training.fit`."""

from __future__ import annotations

import importlib
import json

import pytest

from digitkit import home as home_module
from digitkit.errors import PluginError
from tests.evalreport_fixtures import train_tiny_run

# `digitkit.bench` is also the name of the public function; get the module itself.
bench_module = importlib.import_module("digitkit.bench")


@pytest.fixture
def fake_fit(monkeypatch):
    """Replace the fit adapter; records how bench called it."""
    calls = []

    def train_model(model_name, *, epochs, dataset, quick, seed):
        calls.append({"model": model_name, "epochs": epochs, "dataset": dataset, "quick": quick, "seed": seed})
        if model_name == "cnn":
            raise PluginError("cnn failed to build (simulated)")
        return train_tiny_run(model_name, home_module.runs_dir(), epochs=1, train_size=300, validation=quick)

    monkeypatch.setattr(bench_module, "train_model", train_model)
    return calls


@pytest.mark.slow
def test_bench_quick_trains_evaluates_and_reports_two_models(cli, fake_fit, tmp_path):
    out = tmp_path / "bench-out"

    result = cli("bench", "dense-sigmoid", "25-15-10", "--quick", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert [c["model"] for c in fake_fit] == ["dense-sigmoid", "25-15-10"]
    assert all(c["quick"] and c["epochs"] is None for c in fake_fit)
    assert "leaderboard" in result.stdout
    assert "dense-sigmoid" in result.stdout and "25-15-10" in result.stdout
    assert "1/2" in result.stderr and "2/2" in result.stderr
    saved = json.loads((out / "bench.json").read_text())
    accuracies = [e["accuracy"] for e in saved["entries"]]
    assert accuracies == sorted(accuracies, reverse=True)
    assert all(e["latency_ms"] > 0 and e["params"] > 0 and e["run"] for e in saved["entries"])
    assert "--quick: 1 epoch on 2,000 training digits per model" in result.stdout  # what quick means
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Leaderboard (test split, best accuracy first)" in html
    # The report is ranked too: its run sections come in leaderboard order.
    ranked = [e["run"] for e in saved["entries"]]
    sections = sorted(ranked, key=lambda run: html.rindex(run))
    assert sections == ranked, (sections, ranked)
    for entry in saved["entries"]:  # evaluations were saved in the runs, so reports reuse them
        assert (home_module.runs_dir() / entry["run"] / "evaluation.json").exists()


def test_bench_keeps_going_when_one_model_fails(cli, fake_fit, tmp_path):
    result = cli("bench", "cnn", "dense-sigmoid", "--epochs", "1", "--out", str(tmp_path / "b"), "--json")

    assert result.exit_code == 7
    printed = json.loads(result.stdout)
    assert [e["model"] for e in printed["entries"]] == ["dense-sigmoid", "cnn"]
    assert printed["entries"][1]["error"] == "cnn failed to build (simulated)"
    assert "1 of 2 models failed: cnn" in result.stderr


def test_bench_refuses_quick_with_epochs_and_unknown_models(cli, fake_fit):
    both = cli("bench", "dense-sigmoid", "--quick", "--epochs", "2")
    assert both.exit_code == 2 and "--quick and --epochs cannot be used together" in both.stderr

    unknown = cli("bench", "no-such-model", "--quick")
    assert unknown.exit_code == 2 and "no-such-model" in unknown.stderr
    assert fake_fit == []  # nothing was trained


def test_bench_adapter_maps_quick_onto_fit(monkeypatch, tiny_run_for_adapter):
    """The adapter speaks the fit branch's interface: train_size for the subset, run_path back."""
    from dataclasses import dataclass
    from pathlib import Path

    received = {}

    @dataclass
    class FitResult:
        run_id: str
        run_path: Path

    def fit(model_name=None, *, dataset=None, epochs=None, seed=None, train_size=None, progress=None):
        received.update(model=model_name, dataset=dataset, epochs=epochs, seed=seed, train_size=train_size,
                        progress=progress)
        return FitResult(tiny_run_for_adapter.id, tiny_run_for_adapter.path)

    monkeypatch.setattr("digitkit.training.fit", fit)

    run = bench_module.train_model("dense-sigmoid", epochs=None, dataset="sample", quick=True, seed=3)

    assert run.path == tiny_run_for_adapter.path
    assert received == {"model": "dense-sigmoid", "dataset": "sample", "epochs": bench_module.QUICK_EPOCHS,
                        "seed": 3, "train_size": bench_module.QUICK_TRAIN_SIZE, "progress": None}


@pytest.fixture
def tiny_run_for_adapter(home):
    from digitkit import runs

    return runs.create_run("dense-sigmoid", {})
