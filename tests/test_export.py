"""`digitkit export`: every format written, checked for parity, and only then put in place."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from predict_fixtures import install_run, trained


@pytest.fixture
def linear_run(home, tmp_path_factory):
    """A logits model (the softmax happens in the parity check) in the test's home."""
    return install_run(trained("256-256-linear", tmp_path_factory), home)


ONNX_MISSING = [m for m in ("tf2onnx", "onnxruntime") if importlib.util.find_spec(m) is None]


@pytest.mark.parametrize("fmt", [
    "keras", "litert",
    pytest.param("saved-model", marks=pytest.mark.slow),
    pytest.param("onnx", marks=[pytest.mark.slow, pytest.mark.skipif(
        bool(ONNX_MISSING), reason=f"ONNX export needs {' and '.join(ONNX_MISSING)} (not installed)")]),
])
def test_each_format_passes_its_parity_check(cli, linear_run, tmp_path, fmt):
    target = tmp_path / ("model-folder" if fmt == "saved-model" else f"model.{fmt}")
    result = cli("export", linear_run.name, "--format", fmt, "--out", target, "--samples", "50", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == fmt and Path(data["path"]) == target
    assert data["parity"] == {**data["parity"], "samples": 50, "top1_agreement": 50, "passed": True}
    assert data["parity"]["max_abs_diff"] <= 1e-4
    assert target.is_dir() if fmt == "saved-model" else target.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".digitkit-tmp-")]


def test_text_output_reports_the_parity_check(cli, linear_run, tmp_path):
    result = cli("export", "256-256-linear", "--format", "litert", "--samples", "20", "-o", tmp_path / "m.tflite")
    assert result.exit_code == 0, result.stderr
    assert "parity passed" in result.stdout and "20/20" in result.stdout
    assert str(tmp_path / "m.tflite") in result.stdout.replace("\n", "")


def test_an_up_to_date_tflite_is_reused_without_tensorflow(cli, linear_run):
    import subprocess
    import sys

    # fit wrote model.tflite, checked it and recorded both digests: exporting again would write the same file.
    code = ("import sys, time; from digitkit.exporting import export; t = time.perf_counter(); "
            f"r = export({linear_run.name!r}, 'litert'); "
            "print(r.reused, 'tensorflow' in sys.modules, round(time.perf_counter() - t, 3))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    reused, imported_tf, seconds = proc.stdout.split()
    assert (reused, imported_tf) == ("True", "False"), proc.stderr[-2000:]
    assert float(seconds) < 2
    result = cli("export", "256-256-linear")
    assert result.exit_code == 0 and "up to date" in result.stdout, result.stderr
    assert str(linear_run / "model.tflite") in result.stdout.replace("\n", "")
    assert all(len(line) <= 100 for line in result.stdout.splitlines())
    # model.keras changed since: the export runs again (and checks parity).
    before = (linear_run / "model.tflite").stat().st_mtime_ns
    with open(linear_run / "model.keras", "ab") as handle:
        handle.write(b"")  # same bytes: still up to date
    assert json.loads(cli("export", linear_run.name, "--json").stdout)["reused"] is True
    from digitkit.modelfiles import digests
    from digitkit import runs

    run = runs.Run(linear_run)
    run.update_manifest(**{digests.FIELD: {"model.keras": "sha256:0", "model.tflite": digests.sha256(run.file("model.tflite"))}})
    again = json.loads(cli("export", linear_run.name, "--samples", "20", "--json").stdout)
    assert again["reused"] is False and again["parity"]["passed"] is True
    assert (linear_run / "model.tflite").stat().st_mtime_ns != before


def test_unknown_format_and_missing_run(cli, linear_run):
    result = cli("export", linear_run.name, "--format", "pickle")
    assert result.exit_code == 2
    assert "'pickle' is not one of 'litert', 'tflite', 'keras', 'saved-model', 'onnx'" in result.stderr
    assert cli("export", "no-such-model", "--format", "keras").exit_code == 2


def test_export_defaults_to_litert_and_tflite_is_its_alias(cli, linear_run, tmp_path):
    default = cli("export", linear_run.name, "--samples", "20", "-o", tmp_path / "a.tflite", "--json")
    assert default.exit_code == 0, default.output
    assert json.loads(default.stdout)["format"] == "litert" and (tmp_path / "a.tflite").is_file()
    alias = cli("export", linear_run.name, "-f", "TFLite", "--samples", "20", "-o", tmp_path / "b.tflite", "--json")
    assert alias.exit_code == 0, alias.output
    assert json.loads(alias.stdout)["format"] == "litert" and (tmp_path / "b.tflite").is_file()


def test_onnx_without_its_tools_is_skipped_with_a_reason(cli, linear_run, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else real(name, *a))
    result = cli("export", linear_run.name, "--format", "onnx")
    assert result.exit_code == 6
    message = result.stderr
    # tf2onnx is hidden here; onnxruntime is named too when it is really missing (no onnx extra).
    assert "ONNX export skipped: tf2onnx" in message and "not installed" in message
    assert ("and onnxruntime not installed" in message) == (real("onnxruntime") is None)
    assert "pip install" in message


def test_failed_parity_writes_nothing(cli, linear_run, tmp_path, monkeypatch):
    from digitkit import exporting as export_module

    wrong = lambda temp, x: np.zeros((len(x), 10))  # noqa: E731 - an exporter that broke the model
    tools = export_module._format_tools
    monkeypatch.setattr(export_module, "_format_tools", lambda fmt: (tools(fmt)[0], wrong))
    target = tmp_path / "model.tflite"
    result = cli("export", linear_run.name, "--format", "litert", "--out", target, "--samples", "20")
    assert result.exit_code == 1
    assert "parity check" in result.stderr and "nothing was written" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_litert_for_fit_is_atomic_and_usable(tmp_path, tmp_path_factory):
    from digitkit.exporting import export_litert
    from digitkit.inference.litert_backend import LiteRTModel
    from digitkit.modelfiles.keras_file import load_model

    run = trained("dense-sigmoid", tmp_path_factory)
    model = load_model(run.model_path)
    target = export_litert(model, tmp_path / "model.tflite")
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]
    x = np.random.default_rng(1).random((5, 784), dtype=np.float32)
    assert np.allclose(LiteRTModel(target).predict(x), model.predict(x, verbose=0), atol=1e-5)
