"""`digitkit runs compare`: runs side by side at 80 columns, and as JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitkit.errors import EXIT_USAGE
from digitkit.evaluation.calibration_error import expected_calibration_error


@pytest.fixture
def two_evaluated_runs(make_run):
    """Two runs with saved evaluations that differ on digits 3 and 7."""
    from digitkit import runs
    from digitkit.evaluation import metrics
    from digitkit.evaluation.scoring import SCHEMA, Evaluation, save_evaluation

    made = []
    labels = np.repeat(np.arange(10), 20)
    for n, (stamp, wrong_digit) in enumerate((("20240101-000000", 3), ("20240102-000000", 7))):
        run = make_run(stamp=stamp, name=f"try{n}")
        probabilities = np.full((len(labels), 10), 0.01)
        predicted = labels.copy()
        predicted[np.flatnonzero(labels == wrong_digit)[:6]] = (wrong_digit + 1) % 10
        probabilities[np.arange(len(labels)), predicted] = 0.91
        confusion = metrics.confusion_matrix(labels, predicted)
        data = {"schema": SCHEMA, "dataset": {"name": "sample", "split": "test", "size": len(labels)},
                "metrics": {"accuracy": float((predicted == labels).mean())},
                "per_class": metrics.per_class_scores(confusion)}
        save_evaluation(Evaluation(data, probabilities, labels), runs.Run(run.path))
        made.append(run)
    return made


def test_compare_fits_80_columns_and_highlights_differences(cli, two_evaluated_runs, make_run, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    first, second = two_evaluated_runs
    others = [make_run(stamp=f"2024010{n}-000000", name=f"other-label-{n}") for n in (3, 4)]
    result = cli("runs", "compare", first.id, second.id, *(r.id for r in others))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    text = result.stdout
    for label in ("model", "data", "epochs", "time", "parameters", "test acc", "calib. err", "F1 digit 9"):
        assert label in text
    assert first.id[-4:] in text and second.id[-4:] in text
    assert "50,890" not in text or "25-15-10" in text
    digit3 = next(line for line in lines if line.startswith("F1 digit 3"))
    digit7 = next(line for line in lines if line.startswith("F1 digit 7"))
    digit0 = next(line for line in lines if line.startswith("F1 digit 0"))
    assert "+0." in digit3 and "-0." in digit7 and "same" in digit0


def test_compare_json_is_the_library_result(cli, two_evaluated_runs):
    from digitkit.evaluation import load_evaluation
    from digitkit.evaluation.compare import compare_runs

    first, second = two_evaluated_runs
    result = cli("runs", "compare", first.id, second.id, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == json.loads(json.dumps(compare_runs([first.id, second.id]).to_dict()))
    assert [r["id"] for r in data["runs"]] == [first.id, second.id]
    assert data["f1_vs_first"][0] == [0.0] * 10
    assert data["f1_vs_first"][1][3] > 0 > data["f1_vs_first"][1][7]
    saved = load_evaluation(first)
    assert data["runs"][0]["ece"] == pytest.approx(expected_calibration_error(saved.probabilities, saved.labels))


def test_compare_without_evaluation_says_how_to_get_it(cli, make_run):
    a, b = make_run(stamp="20240101-000000"), make_run(stamp="20240102-000000")
    result = cli("runs", "compare", a.id, b.id)
    assert result.exit_code == 0
    assert f"digitkit evaluate {a.id}" in result.stderr
    assert "calib. err" in result.stdout


def test_compare_needs_two_runs(cli, make_run):
    run = make_run()
    result = cli("runs", "compare", run.id, run.id)
    assert result.exit_code == EXIT_USAGE and "two or more runs" in result.stderr


def test_ece_of_a_calibrated_and_an_overconfident_model():
    labels = np.array([0, 0, 0, 0])
    honest = np.array([[0.75, 0.25]] * 4)  # right 3 times in 4 at 75 %: calibrated
    assert expected_calibration_error(honest, np.array([0, 0, 0, 1])) == pytest.approx(0.0)
    sure = np.array([[1.0, 0.0]] * 4)  # certain, right half the time
    assert expected_calibration_error(sure, np.array([0, 0, 1, 1])) == pytest.approx(0.5)
    assert expected_calibration_error(sure, labels) == pytest.approx(0.0)


def test_compare_imports_neither_tensorflow_nor_plotting(two_evaluated_runs, home):
    import os
    import subprocess
    import sys

    first, second = two_evaluated_runs
    probe = (f"import sys; sys.argv = ['digitkit', 'runs', 'compare', {first.id!r}, {second.id!r}]\n"
             "from digitkit.cli.app import app\n"
             "try:\n    app()\nexcept SystemExit:\n    pass\n"
             "heavy = [m for m in ('tensorflow', 'keras', 'matplotlib', 'seaborn', 'mlflow') if m in sys.modules]\n"
             "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DIGITKIT_HOME": str(home)})
    assert "F1 digit 9" in done.stdout, done.stderr[-2000:]
    assert [line for line in done.stderr.splitlines() if line.startswith("HEAVY=")] == ["HEAVY="]
