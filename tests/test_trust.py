"""Answers you can trust: calibration fitted, recorded, shipped and applied; a status per
answer; --strict; bench runs never answering to a bare model name (issue 24)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from predict_fixtures import digit_png, install_run, trained

from digitkit import pretrained, runs
from digitkit.evaluation.calibration_error import expected_calibration_error, reliability_bins
from digitkit.inference import refs
from digitkit.inference.outputs import NO_CALIBRATION, Calibration, calibrate
from digitkit.inference.status import DEFAULT_MIN_CONFIDENCE, looks_like_several, status_of
from digitkit.training.calibration import brier, calibration_record, fit_temperature, nll


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _overconfident(factor: float, count: int = 4000, seed: int = 0):
    """Logits ``factor`` times sharper than the distribution the labels are drawn from."""
    rng = np.random.default_rng(seed)
    honest = rng.normal(0, 1.5, (count, 10))
    honest[np.arange(count), rng.integers(0, 10, count)] += 3.0
    probabilities = _softmax(honest)
    labels = np.array([rng.choice(10, p=p) for p in probabilities])
    return honest * factor, labels


@pytest.mark.parametrize("factor", [0.5, 1.0, 3.0])
def test_fit_temperature_recovers_a_known_miscalibration(factor):
    logits, labels = _overconfident(factor)
    temperature = fit_temperature(logits, labels)
    assert temperature == pytest.approx(factor, rel=0.1)
    # Fitted by the Brier score (see digitkit.training.calibration); a proper score, so the NLL
    # improves too.
    assert brier(logits, labels, temperature) <= brier(logits, labels) + 1e-9
    assert nll(logits, labels, temperature) <= nll(logits, labels) + 1e-9


def test_calibration_record_lowers_ece_and_nll_of_an_overconfident_model():
    logits, labels = _overconfident(3.0)
    record = calibration_record(logits, labels, "logits", fitted_on="validation split (4,000 digits)")
    assert record["method"] == "temperature" and record["temperature"] == pytest.approx(3.0, rel=0.1)
    assert record["ece"]["after"] < record["ece"]["before"] / 2
    assert record["nll"]["after"] < record["nll"]["before"]
    # A model that outputs probabilities is calibrated through their logarithm: same answer.
    as_probabilities = calibration_record(_softmax(logits), labels, "probabilities", fitted_on="x")
    assert as_probabilities["temperature"] == pytest.approx(record["temperature"], rel=1e-3)


def test_calibrate_divides_logits_and_keeps_the_answer():
    logits, _ = _overconfident(3.0, count=50)
    calibrated = calibrate(logits, "logits", Calibration(3.0, "run"))
    np.testing.assert_allclose(calibrated, _softmax(logits / 3.0), atol=1e-6)
    np.testing.assert_allclose(calibrate(_softmax(logits), "probabilities", Calibration(3.0, "run")), calibrated,
                               atol=1e-5)
    assert (calibrated.argmax(axis=1) == logits.argmax(axis=1)).all()
    np.testing.assert_allclose(calibrate(logits, "logits", NO_CALIBRATION), _softmax(logits), atol=1e-6)


@pytest.mark.parametrize("record", [None, [], {"temperature": "2"}, {"temperature": float("nan")},
                                    {"temperature": 0.0}, {"temperature": 1e6}, {"temperature": True}])
def test_an_unusable_calibration_record_means_none(record):
    assert Calibration.from_record(record, "run") == NO_CALIBRATION


def test_ece_with_15_bins():
    # 100 answers at 0.9 confidence of which 70 are right: ECE 0.2, all in one bin.
    probabilities = np.full((100, 10), 0.1 / 9)
    probabilities[:, 0] = 0.9
    labels = np.r_[np.zeros(70, int), np.ones(30, int)]
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.2)
    bins = reliability_bins(probabilities, labels)
    assert len(bins) == 15 and sum(b["count"] for b in bins) == 100
    assert [b["count"] for b in bins if b["count"]] == [100] and bins[13]["accuracy"] == pytest.approx(0.7)


def test_status_rule():
    probabilities = np.full((4, 10), 0.0)
    probabilities[0, 3] = 1.0                       # sure
    probabilities[1, :2] = [0.9, 0.1]               # a digit, under the default threshold
    probabilities[2, :3] = [0.4, 0.3, 0.3]          # no digit stands out
    probabilities[3, 7] = 1.0                       # sure, but two pieces side by side (below)
    digits = np.zeros((4, 28, 28), np.float32)
    digits[:, 4:24, 12:16] = 1.0
    digits[3, 4:24, 12:16] = 0.0
    digits[3, 8:20, 4:10] = digits[3, 8:20, 18:24] = 1.0
    assert 0.9 < DEFAULT_MIN_CONFIDENCE
    assert status_of(probabilities, digits) == ["ok", "unsure", "not-a-digit", "not-a-digit"]
    assert status_of(probabilities, digits, min_confidence=0.85) == ["ok", "ok", "not-a-digit", "not-a-digit"]
    assert looks_like_several(digits).tolist() == [False, False, False, True]


def test_real_digits_are_not_seen_as_several():
    from digitkit.data import load_digits

    digits = load_digits("sample", split="test").images[:1000]
    assert looks_like_several(digits).mean() < 0.01


# --- recorded by fit, shipped, applied by both backends and by export --------------------

def test_fit_records_its_calibration(make_run):
    run = make_run()
    record = run.manifest["calibration"]
    assert record["method"] == "temperature" and record["digits"] >= 20
    assert 0.05 <= record["temperature"] <= 20
    assert set(record["ece"]) == set(record["nll"]) == {"before", "after"}


def test_every_shipped_model_card_carries_its_calibration():
    for name in pretrained.names():
        record = pretrained.card(name)["calibration"]
        assert record["method"] == "temperature" and 0.05 <= record["temperature"] <= 20, name
        # Never fitted on the digits it is measured on.
        assert "validation split" in record["fitted_on"] or "measured on digits 5,000" in record["fitted_on"], name
        assert record["test"]["ece"]["after"] <= 0.011, name


@pytest.fixture
def calibrated_run(home, tmp_path_factory):
    """A cnn run (logits? no: the zoo cnn outputs probabilities) with a strong temperature."""
    folder = install_run(trained("256-256-linear", tmp_path_factory), home)
    run = runs.Run(folder)
    run.update_manifest(calibration={"method": "temperature", "temperature": 2.5})
    return run


def test_both_backends_apply_the_run_calibration(calibrated_run):
    from digitkit.data import load_digits
    from digitkit.inference import load

    digits = load_digits("sample", split="test").images[:64]
    answers = {}
    for backend in ("keras", "litert"):
        predictor = load(str(calibrated_run.path), backend)
        assert predictor.calibration == Calibration(2.5, "run")
        raw = predictor.predict_proba(digits, calibrated=False)
        calibrated = predictor.predict_proba(digits)
        np.testing.assert_allclose(calibrated, _softmax(np.log(np.clip(raw, 1e-12, None)) / 2.5), atol=1e-4)
        assert calibrated.max(axis=1).mean() < raw.max(axis=1).mean()
        answers[backend] = calibrated
    np.testing.assert_allclose(answers["keras"], answers["litert"], atol=1e-4)


def test_an_exported_tflite_gives_the_probabilities_predict_shows(calibrated_run, tmp_path):
    from digitkit.data import load_digits
    from digitkit.exporting import export
    from digitkit.inference import load

    target = tmp_path / "phone.tflite"
    result = export(str(calibrated_run.path), "litert", out=target)
    assert result.parity.passed
    digits = load_digits("sample", split="test").images[:64]
    loose = load(str(target))  # no manifest beside it: the temperature is inside the file
    assert loose.calibration == NO_CALIBRATION
    np.testing.assert_allclose(loose.predict_proba(digits), load(str(calibrated_run.path)).predict_proba(digits),
                               atol=1e-4)


def test_the_shipped_calibration_is_applied(home):
    from digitkit.inference import load

    predictor = load("cnn-best@pretrained")
    assert predictor.calibration.source == "pretrained"
    assert predictor.calibration.temperature == pretrained.card("cnn-best")["calibration"]["temperature"]


def test_evaluate_reports_ece_and_nll(cli, calibrated_run):
    result = cli("evaluate", str(calibrated_run.path), "--dataset", "sample", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["ece"]) >= {"before", "after"} and set(data["nll"]) >= {"before", "after"}
    assert data["calibration"]["temperature"] == 2.5 and len(data["calibration"]["reliability"]) == 15


# --- status in every output form, --strict ------------------------------------------------

@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "seven.png"
    digit_png(path, 0)
    return path


def test_status_in_every_output_form(cli, calibrated_run, picture):
    model = str(calibrated_run.path)
    data = json.loads(cli("predict", picture, "-m", model, "--json").stdout)
    status = data["predictions"][0]["status"]
    assert status in ("ok", "unsure", "not-a-digit") and data["threshold"] == DEFAULT_MIN_CONFIDENCE
    assert data["model"]["answered_by"] == calibrated_run.id
    line = json.loads(cli("predict", picture, "-m", model, "--jsonl").stdout.splitlines()[0])
    assert line["status"] == status
    rows = cli("predict", picture, "-m", model, "--csv").stdout.splitlines()
    header, row = rows[0].split(","), rows[1].split(",")
    assert row[header.index("status")] == status
    table = cli("predict", picture, "-m", model).stdout
    assert status in table and calibrated_run.id in table


def test_strict_exit_code_says_some_answers_were_not_ok(cli, calibrated_run, picture):
    model = str(calibrated_run.path)
    unsure = cli("predict", picture, "-m", model, "--strict", "--min-confidence", "1.0", "--json")
    assert unsure.exit_code == 8
    assert "--strict" in unsure.stderr and json.loads(unsure.stdout)["predictions"][0]["status"] != "ok"
    relaxed = cli("predict", picture, "-m", model, "--strict", "--min-confidence", "0.5")
    status = "ok" if "not-a-digit" not in relaxed.stdout else "not-a-digit"
    assert relaxed.exit_code == (0 if status == "ok" else 8)
    assert cli("predict", picture, "-m", model, "--min-confidence", "1.0").exit_code == 0  # not strict: 0


def test_predictor_answer_carries_probabilities_status_and_threshold(calibrated_run):
    from digitkit.data import load_digits
    from digitkit.inference import load

    digits = load_digits("sample", split="test").images[:5]
    answers = load(str(calibrated_run.path)).answer(digits, min_confidence=0.3)
    assert len(answers) == 5 and answers.threshold == 0.3
    first = answers[0]
    assert first.status in ("ok", "unsure", "not-a-digit") and first.to_dict()["threshold"] == 0.3
    assert first.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


# --- the model that answers is the one you meant ------------------------------------------

def test_bench_runs_never_answer_to_a_bare_name(make_run):
    full = make_run(stamp="20200101-000000")
    make_run(stamp="20200102-000000", purpose="bench", quick=True)
    assert refs.resolve("25-15-10").run.id == full.id
    # Only bench runs: the shipped weights answer.
    shutil.rmtree(full.path)
    chosen = refs.resolve("25-15-10")
    assert chosen.pretrained and chosen.run is None


@pytest.mark.slow
def test_bench_marks_its_runs(home, monkeypatch):
    from digitkit import bench
    from digitkit.training import fit as real_fit

    made = {}

    def tiny_fit(model, **kwargs):
        made["result"] = real_fit(model, epochs=1, train_size=200, test_size=50, seed=0)
        return made["result"]

    monkeypatch.setattr("digitkit.training.fit", tiny_fit)
    run = bench.train_model("25-15-10", epochs=None, dataset="sample", quick=True, seed=0)
    assert run.load_manifest().trial and run.manifest["purpose"] == "bench"
    assert refs.latest_run_of("25-15-10") is None


def test_a_weaker_run_gets_a_note_naming_the_shipped_weights(make_run):
    dataset = {"name": "mnist", "source": "tfds", "train_size": 54000, "test_size": 10000}
    make_run(stamp="20200101-000000", test_metrics={"loss": 1.0, "accuracy": 0.80}, dataset=dataset)
    chosen = refs.resolve("25-15-10")
    assert len(chosen.notes) == 1 and "25-15-10@pretrained" in chosen.notes[0] and "80.0%" in chosen.notes[0]
    assert len("note: " + chosen.notes[0]) <= 80
    # As good as the shipped weights (within a point): no note. Another test set: no note.
    make_run(stamp="20200102-000000", test_metrics={"loss": 1.0, "accuracy": 0.96}, dataset=dataset)
    assert refs.resolve("25-15-10").notes == ()
    make_run(stamp="20200103-000000", test_metrics={"loss": 1.0, "accuracy": 0.5}, dataset={**dataset, "name": "sample"})
    assert refs.resolve("25-15-10").notes == ()


def test_a_keras_copy_of_a_softmax_model_carries_its_calibration(home, tmp_path):
    from digitkit.data import load_digits
    from digitkit.exporting import export
    from digitkit.inference import load

    assert pretrained.card("cnn")["output"] == "probabilities"
    target = tmp_path / "cnn-calibrated.keras"
    assert export("cnn@pretrained", "keras", out=target).parity.passed
    digits = load_digits("sample", split="test").images[:64]
    shipped = load("cnn@pretrained", "keras")
    assert not shipped.calibration.identity
    np.testing.assert_allclose(load(str(target), "keras").predict_proba(digits), shipped.predict_proba(digits),
                               atol=1e-5)


def test_serve_answers_carry_the_status_and_who_answered(home, picture):
    from digitkit.serve.engine import Engine, list_models, read_digit

    engine = Engine("cnn-best@pretrained")
    result = engine.predict([read_digit(picture.read_bytes(), "seven.png")])
    assert result["predictions"][0]["status"] in ("ok", "unsure", "not-a-digit")
    assert result["model"]["answered_by"] == "cnn-best@pretrained" and result["model"]["test_accuracy"] > 0.99
    shipped = {m["id"]: m for m in list_models()}["cnn-best@pretrained"]
    assert shipped["accuracy"] == pretrained.card("cnn-best")["test_accuracy"]


def test_runs_listing_marks_bench_runs(cli, make_run):
    make_run(stamp="20200101-000000")
    bench = make_run(stamp="20200102-000000", purpose="bench", quick=True)
    rows = {row["id"]: row for row in json.loads(cli("runs", "--json").stdout)}
    assert rows[bench.id]["purpose"] == "bench" and list(rows.values())[0]["purpose"] in (None, "bench")
    assert sum(row["purpose"] == "bench" for row in rows.values()) == 1
    assert "[bench]" in cli("runs").stdout


def test_a_batch_with_answers_not_ok_ends_with_a_one_line_note():
    from digitkit.inference.status import summary_note

    assert summary_note(["ok", "ok"]) is None
    assert summary_note(["ok", "unsure"]) == "1 unsure of 2 answers: a person should look"
    note = summary_note(["unsure", "not-a-digit", "not-a-digit"] * 3000)
    assert "of 9,000" in note and "digitkit read" in note and len("note: " + note) <= 80
