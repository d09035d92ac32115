"""`evaluate --numbers`: a reader scored on pictures named with their true text, and the report's
gallery of misread numbers."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitkit.errors import UsageError
from digitkit.evaluation import evaluate_numbers, load_numbers_evaluation, metrics, save_numbers_evaluation
from digitkit.evaluation.numbers import labelled_numbers
from reading_fixtures import MODEL, compose_text
from tests.evalreport_fixtures import tiny_run, tiny_run_template  # noqa: F401


@pytest.fixture(scope="module")
def number_set(tmp_path_factory) -> Path:
    """Three numbers the shipped model reads right, one named with a wrong text on purpose
    (a picture of 4071 called 4077), in two groups, as make_numbers.py names them."""
    root = tmp_path_factory.mktemp("numbers")
    (root / "clean").mkdir()
    (root / "forms").mkdir()
    compose_text(root / "clean" / "00000_12.png", "12")
    compose_text(root / "clean" / "00001_90210.png", "90210")
    compose_text(root / "forms" / "00002_345.png", "345")
    compose_text(root / "forms" / "<b>x_4077.png", "4071")  # misread on purpose; an HTML-ish name
    return root


def test_number_scores_match_hand_counts():
    truths = ["123", "45", "678", "90", "11"]
    reads = ["123", "46", "68", None, "1 1"]  # right, one digit wrong, a digit lost, unreadable, a wide gap
    statuses = ["ok", "unsure", "ok", "failed", "ok"]
    scores = metrics.number_scores(truths, reads, statuses)
    assert scores["numbers"] == 5 and scores["errors"] == 3
    assert scores["accuracy"] == pytest.approx(2 / 5)  # layout (the space) is not scored
    assert scores["digits_compared"] == 7 and scores["digit_accuracy"] == pytest.approx(6 / 7)
    assert (scores["count_errors"], scores["missing"], scores["extra"]) == (2, 2, 0)
    assert scores["status"] == {"ok": 3, "unsure": 1, "not-a-digit": 0, "failed": 1}
    assert scores["not_ok"] == 2 and scores["ok_accuracy"] == pytest.approx(2 / 3)
    # 0 + 1 + 1 + 2 (nothing read: every digit lost) + 0 edits over 12 digits
    assert scores["edit_digit_accuracy"] == pytest.approx(1 - 4 / 12)
    assert metrics.number_scores(["12"], ["123"], ["ok"])["extra"] == 1


def test_the_set_is_named_by_file_names_or_labels_csv(tmp_path):
    compose_text(tmp_path / "a_12.png", "12")
    compose_text(tmp_path / "scan.png", "3")
    found, notes = labelled_numbers(tmp_path)
    assert [(n.name, n.text) for n in found] == [("a_12.png", "12")]
    assert notes and "scan.png" in notes[0] and "_DIGITS" in notes[0]

    (tmp_path / "labels.csv").write_text("file,text,condition\nscan.png,3,boxed\na_12.png,12,separated\n")
    found, _ = labelled_numbers(tmp_path)
    assert [(n.name, n.text, n.group) for n in found] == [("scan.png", "3", "boxed"), ("a_12.png", "12", "separated")]

    (tmp_path / "labels.csv").write_text("file,text\n../outside_1.png,1\n")
    with pytest.raises(UsageError, match="not a file inside"):
        labelled_numbers(tmp_path)
    with pytest.raises(UsageError, match="not a folder"):
        labelled_numbers(tmp_path / "a_12.png")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no picture whose true text is known"):
        labelled_numbers(empty)


def test_a_reader_is_scored_and_its_mistake_kept_as_a_picture(number_set):
    result = evaluate_numbers(MODEL, number_set)
    m = result.metrics
    assert (m["numbers"], m["errors"], m["accuracy"]) == (4, 1, 0.75)
    assert m["count_errors"] == 0 and m["digits_compared"] == 14
    assert m["digit_accuracy"] == pytest.approx(13 / 14)
    assert sum(m["status"].values()) == 4 and m["status"]["failed"] == 0
    assert [g["group"] for g in result.data["groups"]] == ["clean", "forms"]
    assert result.data["groups"][0]["accuracy"] == 1.0 and result.data["groups"][1]["accuracy"] == 0.5
    [mistake] = result.data["mistakes"]
    assert (mistake["input"], mistake["true"], mistake["read"]) == ("forms/<b>x_4077.png", "4077", "4071")
    assert mistake["picture"] == 0 and len(result.pictures) == 1
    picture = result.pictures[0]
    assert picture.right.tolist() == [True, True, True, False]
    assert picture.ink.dtype == np.uint8 and picture.boxes.shape == (4, 4)
    assert result.saved_to is None  # shipped weights are no run: nothing to save into
    json.dumps(result.to_dict(), allow_nan=False)


def test_cli_json_and_the_table_at_80_columns(cli, number_set, monkeypatch):
    result = cli("evaluate", MODEL, "--numbers", number_set, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "digitkit.numbers-evaluation/1" and data["answered_by"] == MODEL
    assert set(data["metrics"]) >= {"numbers", "accuracy", "digit_accuracy", "count_errors", "status", "not_ok",
                                    "ok_accuracy"}
    assert data["mistakes"][0]["read"] == "4071"

    monkeypatch.setenv("COLUMNS", "80")
    result = cli("evaluate", MODEL, "--numbers", number_set)
    assert result.exit_code == 0, result.stderr
    assert "75.00%" in result.stdout and "4077 → 4071" in result.stdout and "forms" in result.stdout
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= 80

    refused = cli("evaluate", MODEL, "--numbers", number_set, "--dataset", "sample")
    assert refused.exit_code == 2 and "--dataset" in refused.stderr


def test_cli_digits_reads_exactly_n_in_every_number(cli, tmp_path):
    """`--digits 4` on 4-digit numbers scores as `read --digits 4` reads them, and is recorded; a
    count no number has cannot be read, and the numbers count as failed, not as right."""
    compose_text(tmp_path / "00000_4071.png", "4071")
    compose_text(tmp_path / "00001_2385.png", "2385")
    result = cli("evaluate", MODEL, "--numbers", tmp_path, "--digits", "4", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["numbers"]["digits_option"] == 4 and data["metrics"]["accuracy"] == 1.0
    nine = json.loads(cli("evaluate", MODEL, "--numbers", tmp_path, "--digits", "9", "--json").stdout)
    assert nine["numbers"]["digits_option"] == 9 and nine["metrics"]["accuracy"] == 0.0

    refused = cli("evaluate", MODEL, "--digits", "4")
    assert refused.exit_code == 2 and "--numbers" in refused.stderr
    assert cli("evaluate", MODEL, "--numbers", tmp_path, "--digits", "0").exit_code == 2


@pytest.mark.slow
def test_a_run_saves_its_reader_evaluation_and_the_report_draws_the_mistake(tiny_run, number_set):
    from digitkit.report import build_report

    own = evaluate_numbers(tiny_run.id, number_set)  # the run's own (tiny) model reads them
    assert own.saved_to == tiny_run.path
    assert tiny_run.file("numbers-evaluation.json").exists() and tiny_run.file("numbers-mistakes.npz").exists()
    again = load_numbers_evaluation(tiny_run)
    assert again.data == json.loads(json.dumps(own.data)) and len(again.pictures) == len(own.pictures)

    # The report test needs a known mistake: the shipped model's evaluation, saved in the run.
    save_numbers_evaluation(evaluate_numbers(MODEL, number_set), tiny_run)
    result = build_report(tiny_run.id, fmt="both")
    html = result.paths[0].read_text(encoding="utf-8")
    assert "Reading numbers" in html and "misread numbers" in html.lower()
    assert "&lt;b&gt;x_4077.png" in html and "<b>x_4077" not in html  # the file name is escaped
    figure = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="The 1 most confidently misread', html)
    assert figure, "no gallery of misread numbers"
    image = Image.open(io.BytesIO(base64.b64decode(figure.group(1))))
    image.load()
    assert image.width > 200 and image.height > 100
    markdown = result.paths[1].read_text(encoding="utf-8")
    assert "misread-numbers.png" in markdown and "forms/\\<b\\>x_4077.png" in markdown


def test_a_damaged_pictures_file_keeps_the_scores(tmp_path, number_set):
    from digitkit import runs

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    run = runs.Run(run_dir)
    evaluation = evaluate_numbers(MODEL, number_set)
    save_numbers_evaluation(evaluation, run)
    assert len(load_numbers_evaluation(run).pictures) == 1
    run.file("numbers-mistakes.npz").write_bytes(b"not an npz")
    loaded = load_numbers_evaluation(run)
    assert loaded.metrics == evaluation.metrics and loaded.pictures == []
    run.file("numbers-evaluation.json").write_text("{broken")
    assert load_numbers_evaluation(run) is None
    shutil.rmtree(run_dir)
