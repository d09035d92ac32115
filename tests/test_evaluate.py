"""`digitkit evaluate` and the metrics behind it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitkit.evaluation import metrics
from digitkit.errors import ModelRefusedError
from tests.evalreport_fixtures import nan_model_file, tiny_run, tiny_run_template  # noqa: F401


def one_hot_probabilities(predicted, num_classes=10, confidence=0.9):
    probs = np.full((len(predicted), num_classes), (1 - confidence) / (num_classes - 1), dtype=np.float32)
    probs[np.arange(len(predicted)), predicted] = confidence
    return probs


def test_scores_on_crafted_predictions_match_hand_counts():
    # 10 fours: 7 right, 3 called 9; 5 threes: 4 right, 1 called 5; 2 nines right.
    labels = np.array([4] * 10 + [3] * 5 + [9] * 2)
    predicted = np.array([4] * 7 + [9] * 3 + [3] * 4 + [5] + [9] * 2)
    result = metrics.score(one_hot_probabilities(predicted), labels, top_k=1)

    confusion = np.array(result["confusion"])
    assert confusion[4, 4] == 7 and confusion[4, 9] == 3
    assert confusion[3, 3] == 4 and confusion[3, 5] == 1 and confusion[9, 9] == 2
    assert confusion.sum() == 17
    assert result["most_confused"] == [{"true": 4, "predicted": 9, "count": 3, "share": 0.3},
                                       {"true": 3, "predicted": 5, "count": 1, "share": 0.2}]
    assert result["metrics"]["accuracy"] == pytest.approx(13 / 17)
    assert result["metrics"]["top_k_accuracy"] == pytest.approx(13 / 17)
    assert result["metrics"]["errors"] == 4
    assert result["metrics"]["loss"] == pytest.approx(-np.log(np.where(predicted == labels, 0.9, 0.1 / 9)).mean(),
                                                      rel=1e-5)
    nine = result["per_class"][9]
    assert nine["precision"] == pytest.approx(2 / 5) and nine["recall"] == 1.0 and nine["support"] == 2
    assert nine["f1"] == pytest.approx(2 * 0.4 * 1 / 1.4)
    five = result["per_class"][5]  # predicted once, never present: precision 0, recall 0 (no support)
    assert five == {"label": 5, "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_top_k_counts_the_true_class_among_the_k_best():
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.6, 0.1, 0.3]])
    labels = np.array([1, 0, 1])
    assert metrics.top_k_accuracy(probs, labels, 1) == 0.0
    assert metrics.top_k_accuracy(probs, labels, 2) == pytest.approx(1 / 3)
    assert metrics.top_k_accuracy(probs, labels, 3) == 1.0


def test_nan_outputs_are_refused_not_scored_as_zero():
    probs = one_hot_probabilities(np.zeros(4, dtype=int))
    probs[2] = np.nan
    with pytest.raises(ModelRefusedError, match="NaN or infinite outputs for 1 of 4"):
        metrics.score(probs, np.zeros(4, dtype=int))


def test_evaluate_cli_prints_metrics_heatmap_and_saves_results(cli, tiny_run):
    result = cli("evaluate", tiny_run.id, "--gallery", "4")

    assert result.exit_code == 0, result.output
    assert "accuracy" in result.stdout and "top-3 accuracy" in result.stdout
    assert "confusion matrix (rows: true digit, columns: predicted)" in result.stdout
    assert "most confused pairs" in result.stdout
    assert "misclassified digits" in result.stdout
    assert "saved evaluation.json" in result.stderr
    saved = json.loads(tiny_run.file("evaluation.json").read_text())
    assert saved["schema"] == "digitkit.evaluation/1"
    assert saved["run"] == tiny_run.id and saved["dataset"]["split"] == "test"
    assert np.array(saved["confusion"]).sum() == saved["dataset"]["size"] == 1000
    assert sum(c["support"] for c in saved["per_class"]) == 1000
    with np.load(tiny_run.file("predictions.npz")) as arrays:
        assert arrays["probabilities"].shape == (1000, 10)
        assert (arrays["labels"] >= 0).all() and arrays["indices"].tolist() == list(range(1000))
        accuracy = float((arrays["probabilities"].argmax(1) == arrays["labels"]).mean())
    assert saved["metrics"]["accuracy"] == pytest.approx(accuracy)
    # The model was trained for real: the saved accuracy matches what Keras measured at fit time.
    assert saved["metrics"]["accuracy"] == pytest.approx(tiny_run.manifest["test_metrics"]["accuracy"], abs=1e-6)
    assert saved["metrics"]["loss"] == pytest.approx(tiny_run.manifest["test_metrics"]["loss"], rel=1e-3)


def test_evaluate_json_is_the_saved_document(cli, tiny_run):
    result = cli("evaluate", tiny_run.id, "--json", "--top-k", "5")

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["top_k"] == 5
    assert printed == json.loads(tiny_run.file("evaluation.json").read_text())


def test_evaluate_refuses_a_model_with_nan_outputs(cli, tmp_path):
    path = nan_model_file(tmp_path / "broken.keras")

    result = cli("evaluate", str(path))

    assert result.exit_code == 4
    # refused before any digit is scored: the weights already hold NaN
    assert "NaN or infinite" in result.stderr and "predict" not in result.stderr.lower()
    assert "Traceback" not in result.output


def test_evaluate_unknown_model_is_a_usage_error(cli):
    result = cli("evaluate", "no-such-model")
    assert result.exit_code == 2
    assert "no-such-model" in result.stderr


def test_heatmap_reads_without_colour(tiny_run, monkeypatch):
    from rich.console import Console

    from digitkit.render.evaluation import confusion_heatmap

    console = Console(no_color=True, width=100, record=True)
    console.print(confusion_heatmap([[5, 1], [0, 3]]))
    text = console.export_text()
    assert "5" in text and "1" in text and "3" in text and "·" in text


def test_evaluate_a_loose_model_file_saves_nothing(cli, tiny_run, tmp_path):
    loose = tmp_path / "loose.keras"
    loose.write_bytes(tiny_run.model_path.read_bytes())

    result = cli("evaluate", str(loose), "--dataset", "sample", "--json")

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["run"] is None and printed["dataset"]["name"] == "sample"
    assert "saved evaluation.json" not in result.stderr
    assert list(tmp_path.iterdir()) == [loose]


def test_data_notes_go_to_stderr(cli, tiny_run, monkeypatch):
    import dataclasses

    import digitkit.data

    real = digitkit.data.load_digits

    def with_note(dataset=None, split="train"):
        digits = real(dataset, split)
        return dataclasses.replace(digits, notes=("mnist is not downloaded: using the bundled sample",))

    monkeypatch.setattr(digitkit.data, "load_digits", with_note)
    result = cli("evaluate", tiny_run.id, "--json")

    assert result.exit_code == 0, result.output
    assert "note: mnist is not downloaded: using the bundled sample" in result.stderr
    assert json.loads(result.stdout)["notes"] == ["mnist is not downloaded: using the bundled sample"]


def test_a_run_that_fell_back_to_the_sample_is_evaluated_on_the_sample(home):
    from digitkit import runs
    from digitkit.evaluation.scoring import _default_dataset

    fell_back = runs.create_run("cnn", {"dataset": {"name": "mnist", "requested": None,
                                                    "source": "bundled MNIST sample (fallback)"}})
    named = runs.create_run("cnn", {"dataset": {"name": "mnist", "requested": "mnist", "source": "tfds mnist"}})
    assert _default_dataset(fell_back) == "sample"
    assert _default_dataset(named) == "mnist"


def test_evaluate_fits_one_screen_summary_first(cli, tiny_run, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "30")
    result = cli("evaluate", tiny_run.id)

    assert result.exit_code == 0, result.output
    lines = result.stdout.rstrip("\n").splitlines()
    assert len(lines) + result.stderr.count("\n") <= 30 - 1  # and a line for the next prompt
    assert lines[0].startswith("evaluation") and any(line.startswith("accuracy") for line in lines[:8])
    assert all(len(line) <= 80 for line in lines)
    assert "recall" in result.stdout and "`--gallery N` draws" in result.stdout

    tall = cli("evaluate", tiny_run.id, env={"LINES": "80", "COLUMNS": "80"})
    assert "misclassified digits (true→predicted" in tall.stdout  # room for a gallery row

    quiet = cli("evaluate", tiny_run.id, "-q")
    assert quiet.exit_code == 0 and quiet.stdout.count("\n") == 1 and "accuracy" in quiet.stdout
