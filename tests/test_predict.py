"""`digitkit predict` and digitkit.predict on tiny trained runs (trained once per session)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from predict_fixtures import digit_png, install_run, trained

FIXTURES = Path(__file__).parent / "fixtures"
ZOO = FIXTURES / "images"
sys.path.insert(0, str(FIXTURES))
from make_images import EXPECTED, LABEL  # noqa: E402

GOOD = sorted(n for n, e in EXPECTED.items() if e == LABEL)
BAD = sorted(n for n, e in EXPECTED.items() if e != LABEL)


def _table_rows(text: str) -> list[list[str]]:
    """(digit, status, input) of each table row, the input joined from its lines (folded at "/")."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        cells = line.split("│")
        if len(cells) < 5:
            continue
        if cells[2].strip() or not rows:  # a row's digit is on its first line
            rows.append([cells[2].strip(), cells[3].strip(), ""])
        rows[-1][2] += cells[1].strip()
    return rows


def digit_in_table(text: str, name: str) -> str:
    """The digit column of the table row whose input (folded at "/" over its lines) ends with ``name``."""
    return next(digit for digit, _, path in _table_rows(text) if path.endswith(name))


def status_in_table(text: str, name: str) -> str:
    """The status column of the row whose input ends with ``name``."""
    return next(status for _, status, path in _table_rows(text) if path.endswith(name))


@pytest.fixture
def cnn_home(home, tmp_path_factory):
    """A home whose latest completed cnn run has model.keras and model.tflite."""
    return install_run(trained("cnn", tmp_path_factory), home)


def test_default_model_is_the_latest_cnn_run_through_litert(cli, cnn_home):
    result = cli("predict", ZOO / "grey8.png")
    assert result.exit_code == 0, result.stderr
    assert "litert" in result.stdout and cnn_home.name in result.stdout
    assert digit_in_table(result.stdout, "grey8.png") == "7"
    assert "%" in result.stdout and "█" in result.stdout


def test_zoo_folder_good_files_predicted_bad_files_skipped(cli, cnn_home):
    result = cli("predict", ZOO, "--json")
    assert result.exit_code == 7, result.stderr  # PartialFailure
    data = json.loads(result.stdout)
    names = [Path(p["input"]).name for p in data["predictions"]]
    assert names == GOOD  # every readable file, in sorted (stable) order
    assert sorted(Path(f["input"]).name for f in data["failures"]) == BAD
    sevens = sum(p["digit"] == 7 for p in data["predictions"])
    assert sevens >= len(GOOD) - 2, [(p["input"], p["digit"]) for p in data["predictions"]]
    # Failures are on stderr, one line each, with markup-like names printed literally.
    assert result.stderr.count("skipped") == len(BAD)
    assert f"{len(BAD)} of {len(GOOD) + len(BAD)} inputs" in result.stderr


def test_markup_names_are_printed_literally(cli, cnn_home, monkeypatch):
    monkeypatch.chdir(ZOO)
    result = cli("predict", "[red]markup[-b].png", "[link=x]seven.png", "empty.png", "[/b].png")
    assert result.exit_code == 7
    assert "[red]markup[-b].png" in result.stdout and "[link=x]seven.png" in result.stdout
    assert result.stderr.splitlines()[:2] == ["skipped empty.png: is empty (0 bytes)",
                                              "skipped [/b].png: no such file (and no file matches it as a pattern)"]


def test_non_utf8_name_and_globs(cli, cnn_home, tmp_path):
    path = os.fsdecode(os.fsencode(tmp_path) + b"/seven-\xff.png")
    digit_png(Path(path))
    digit_png(tmp_path / "b.png", index=1)
    result = cli("predict", str(tmp_path / "*.png"), "--csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [Path(r["input"]).name for r in rows] == ["b.png", "seven-\\xff.png"]


def test_all_inputs_failing_exits_3(cli, cnn_home):
    result = cli("predict", ZOO / "all_white.png")
    assert result.exit_code == 3
    assert "no ink found" in result.stderr
    result = cli("predict", ZOO / "empty.png", ZOO / "text.png", "nope.png")
    assert result.exit_code == 3
    assert result.stderr.count("skipped") == 3 and "none of the 3 inputs" in result.stderr


def test_stdin(cli, cnn_home):
    result = cli("predict", "-", "--json", input=(ZOO / "rgb.jpg").read_bytes())
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["predictions"][0]["input"] == "<stdin>"


def test_json_schema_and_min_confidence(cli, cnn_home):
    result = cli("predict", ZOO / "grey8.png", "--json", "--top-k", "4", "--min-confidence", "1.0")
    data = json.loads(result.stdout)
    assert set(data) == {"model", "min_confidence", "threshold", "predictions", "failures"}
    assert set(data["model"]) == {"name", "run", "path", "backend", "answered_by", "test_accuracy", "test_set",
                                  "calibration"}
    assert data["threshold"] == 1.0
    prediction = data["predictions"][0]
    assert set(prediction) == {"input", "digit", "best", "confidence", "status", "top_k", "probabilities"}
    assert prediction["digit"] is None and prediction["best"] == 7  # below 100 %: "?"
    assert prediction["status"] in ("unsure", "not-a-digit")
    assert len(prediction["top_k"]) == 4 and len(prediction["probabilities"]) == 10
    text = cli("predict", ZOO / "grey8.png", "--min-confidence", "1.0").stdout
    assert digit_in_table(text, "grey8.png") == "?"
    assert status_in_table(text, "grey8.png") == prediction["status"]


def test_show_draws_the_digit_the_model_received(cli, cnn_home):
    result = cli("predict", ZOO / "blue_pen_cream_paper.png", "--show")
    assert result.exit_code == 0
    assert "@@" in result.stdout and "→ 7" in result.stdout


@pytest.mark.parametrize("spec_name", ["dense-sigmoid", "256-256-linear"])
@pytest.mark.parametrize("backend", ["litert", "keras"])
def test_top_k_sorted_and_probabilities_sum_to_one(spec_name, backend, tmp_path_factory):
    from digitkit.inference.batch import predict

    run = trained(spec_name, tmp_path_factory)
    result = predict([ZOO / "grey8.png", ZOO / "rgb.jpg"], model=str(run.path), top_k=10, backend=backend)
    assert result.backend == backend
    for prediction in result.predictions:
        probabilities = [p for _, p in prediction.top_k]
        assert probabilities == sorted(probabilities, reverse=True)
        assert sorted(d for d, _ in prediction.top_k) == list(range(10))
        assert abs(float(prediction.probabilities.sum()) - 1.0) < 1e-5
        assert (prediction.probabilities >= 0).all()


def test_litert_and_keras_agree(tmp_path_factory):
    from digitkit.inference.batch import predict

    run = trained("256-256-linear", tmp_path_factory)
    files = [ZOO / n for n in GOOD]
    fast = predict(files, model=str(run.path), backend="litert")
    slow = predict(files, model=str(run.path), backend="keras")
    assert [p.best for p in fast.predictions] == [p.best for p in slow.predictions]
    assert np.allclose([p.probabilities for p in fast.predictions], [p.probabilities for p in slow.predictions],
                       atol=1e-4)


def test_nan_outputs_are_refused_never_predicted_as_zero(cli, home, tmp_path_factory):
    from digitkit.modelfiles.keras_file import load_model, save_model

    folder = install_run(trained("dense-sigmoid", tmp_path_factory), home)
    model = load_model(folder / "model.keras")
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    save_model(model, folder / "model.keras")
    (folder / "model.tflite").unlink()
    result = cli("predict", ZOO / "grey8.png", "--model", "dense-sigmoid")
    assert result.exit_code == 4
    assert "NaN" in result.stderr and "0 " not in result.stdout


def test_stale_tflite_falls_back_to_keras(home, tmp_path_factory):
    from digitkit.inference import load

    folder = install_run(trained("dense-sigmoid", tmp_path_factory), home)
    assert load("dense-sigmoid").backend == "litert"
    os.utime(folder / "model.tflite", (1, 1))  # the digests say the pair still belongs together
    assert load("dense-sigmoid").backend == "litert"
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["digests"]  # a run made before digests were recorded: modification times decide
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert load("dense-sigmoid").backend == "keras"


def test_no_trained_model_says_how_to_get_one(cli, home, monkeypatch):
    from digitkit import pretrained

    monkeypatch.setattr(pretrained, "names", lambda: [])  # a digitkit without shipped weights
    result = cli("predict", ZOO / "grey8.png")
    assert result.exit_code == 2
    assert "digitkit fit cnn" in result.stderr


def test_usage_errors(cli, cnn_home):
    assert cli("predict", ZOO / "grey8.png", "--json", "--csv").exit_code == 2
    assert cli("predict", ZOO / "grey8.png", "--top-k", "11").exit_code == 2


PROBE = """
import sys
sys.argv = ["digitkit", "predict", {path!r}, "--json"]
import digitkit.inference.batch, digitkit.intake, digitkit.cli.predict
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "imported at module level"
from digitkit.cli.app import app
try:
    app()
except SystemExit as exc:
    code = exc.code
print("HEAVY=" + ",".join(m for m in ("tensorflow", "keras") if m in sys.modules), file=sys.stderr)
"""


def test_litert_path_never_imports_tensorflow(cnn_home, home):
    env = {**os.environ, "DIGITKIT_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", PROBE.format(path=str(ZOO / "grey8.png"))],
                          capture_output=True, text=True, env=env, timeout=120)
    assert "HEAVY=\n" in proc.stderr + "\n", proc.stderr[-2000:]
    assert json.loads(proc.stdout)["model"]["backend"] == "litert"


def test_public_api_works_even_after_importing_the_submodule(tmp_path_factory):
    import digitkit
    import digitkit.inference.batch  # noqa: F401

    run = trained("dense-sigmoid", tmp_path_factory)
    result = digitkit.predict(ZOO / "grey8.png", model=str(run.path))
    assert len(result.predictions) == 1 and not result.failures
