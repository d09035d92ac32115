"""digitkit.inference: one Predictor for both backends, and every refusal as one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from predict_fixtures import install_run, trained

ZOO = Path(__file__).parent / "fixtures" / "images"


@pytest.fixture
def run_home(home, tmp_path_factory):
    """A home with one completed dense-sigmoid run (model.keras + model.tflite)."""
    return install_run(trained("dense-sigmoid", tmp_path_factory), home)


def _digits(count=5):
    from digitkit.data import load_digits

    return load_digits("sample", split="test").images[:count].astype(np.float32) / 255.0


@pytest.mark.parametrize("backend", ["litert", "keras"])
def test_each_backend_through_the_one_predictor(run_home, backend):
    import digitkit

    predictor = digitkit.load("dense-sigmoid", backend=backend)
    assert predictor.backend == backend and predictor.name == "dense-sigmoid"
    assert predictor.input_spec.image_size == 28 and predictor.run_id == run_home.name
    probabilities = predictor.predict_proba(_digits())
    assert probabilities.shape == (5, 10) and probabilities.dtype == np.float32
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5) and (probabilities >= 0).all()


def test_backends_agree_and_auto_prefers_litert(run_home):
    from digitkit.inference import load

    auto, keras_backend = load("dense-sigmoid"), load("dense-sigmoid", "keras")
    assert auto.backend == "litert"
    assert np.allclose(auto.predict_proba(_digits(20)), keras_backend.predict_proba(_digits(20)), atol=1e-4)


def test_inputs_must_be_digits(run_home):
    from digitkit.errors import InputError
    from digitkit.inference import load

    predictor = load("dense-sigmoid")
    for bad in (np.zeros((2, 28, 27)), np.zeros((28, 28)), np.full((1, 28, 28), 2.0), np.full((1, 28, 28), np.nan)):
        with pytest.raises(InputError):
            predictor.predict_proba(bad)
    assert predictor.predict_proba(np.zeros((0, 28, 28))).shape == (0, 10)


def test_outputs_are_checked_in_one_place():
    from digitkit.errors import ModelRefusedError
    from digitkit.inference.outputs import to_probabilities

    logits = np.array([[0.0] * 9 + [5.0]])
    assert to_probabilities(logits, "logits").argmax() == 9
    assert np.allclose(to_probabilities(np.full((1, 10), 0.1), "auto"), 0.1)
    for bad, words in [(np.zeros((1, 1000)), "(1, 1000)"), (np.zeros((2, 10)), "for 3 digits"),
                       (np.full((1, 10), np.nan), "NaN or infinite outputs for 1 of 1")]:
        with pytest.raises(ModelRefusedError, match=words.replace("(", r"\(").replace(")", r"\)")):
            to_probabilities(bad, "logits", rows=3 if "3 digits" in words else None)


def test_digests_recorded_at_export_and_checked_on_load(run_home, tmp_path_factory):
    from digitkit import runs
    from digitkit.errors import ModelRefusedError
    from digitkit.inference import load
    from digitkit.modelfiles import digests

    run = runs.Run(run_home)
    recorded = run.manifest["digests"]
    assert recorded == {"model.keras": digests.sha256(run.model_path), "model.tflite": digests.sha256(
        run.file("model.tflite"))}
    other = trained("256-256-linear", tmp_path_factory)
    shutil.copy(other.file("model.tflite"), run.file("model.tflite"))  # not this model's export
    with pytest.raises(ModelRefusedError, match="SHA-256 differs"):
        load(run.id)
    shutil.copy(trained("dense-sigmoid", tmp_path_factory).file("model.tflite"), run.file("model.tflite"))
    with zipfile.ZipFile(run.model_path, "a") as archive:  # model.keras changed after the export
        archive.writestr("extra.txt", "retrained")
    assert load(run.id).backend == "keras"


def _thousand_output_tflite(path: Path) -> Path:
    import keras

    from digitkit.exporting import _write_litert

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1000)])
    _write_litert(model, path)
    return path


def test_tflite_with_1000_outputs_is_refused_in_one_line(cli, run_home, tmp_path):
    loose = _thousand_output_tflite(tmp_path / "wide.tflite")
    result = cli("predict", ZOO / "grey8.png", "--model", loose)
    assert result.exit_code == 4, result.stdout
    assert result.stderr.strip().splitlines() == [
        "error: wide.tflite: the model's output (None, 1000) (float32) is not one float score per digit class "
        "(None, 10) (it was made for another task)"]
    # In a run, with digests recorded after the swap (as an old digitkit would have left it).
    shutil.copy(loose, run_home / "model.tflite")
    manifest = json.loads((run_home / "manifest.json").read_text())
    manifest.pop("digests")
    (run_home / "manifest.json").write_text(json.dumps(manifest))
    os.utime(run_home / "model.keras", (1, 1))
    result = cli("predict", ZOO / "grey8.png", "--model", "dense-sigmoid")
    assert result.exit_code == 4 and "(None, 1000)" in result.stderr and "Traceback" not in result.stderr


def test_damaged_manifest_in_one_run_does_not_break_another(cli, run_home, home):
    broken = home / "runs" / "20990101-000000-dense-sigmoid-beef"  # newest: looked at first
    broken.mkdir()
    (broken / "manifest.json").write_text("[]")
    result = cli("predict", ZOO / "grey8.png", "--model", "dense-sigmoid", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["model"]["run"] == run_home.name
    result = cli("predict", ZOO / "grey8.png", "--model", broken.name)
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: run {broken.name} is unreadable"), lines


def test_pretrained_reference_without_shipped_weights(cli, home):
    result = cli("predict", ZOO / "grey8.png", "--model", "nope@pretrained")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no pretrained weights for 'nope' (shipped: 25-15-10, "), lines


def _oversized_keras(path: Path) -> Path:
    """A ~630 KB .keras whose config.json declares a 500,000-unit Dense layer."""
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(200, name="hidden"),
                              keras.layers.Dense(10, name="out")])
    small = path.with_name("small.keras")
    model.save(small)
    with zipfile.ZipFile(small) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    for layer in config["config"]["layers"]:
        if layer["config"]["name"] == "hidden":
            layer["config"]["units"] = 500_000
        if layer["config"]["name"] == "out":
            layer["build_config"]["input_shape"] = [None, 500_000]
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


RSS_PROBE = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(proc.returncode, round(rss_mb), proc.stderr.strip().replace(chr(10), " | "), sep="\\t")
"""


def test_oversized_config_refused_before_memory_grows(tmp_path, home):
    path = _oversized_keras(tmp_path / "huge.keras")
    assert path.stat().st_size < 1_000_000
    command = [sys.executable, "-m", "digitkit", "predict", str(ZOO / "grey8.png"), "--model", str(path)]
    proc = subprocess.run([sys.executable, "-c", RSS_PROBE, *command], capture_output=True, text=True,
                          env={**os.environ, "DIGITKIT_HOME": str(home)}, timeout=300)
    code, rss_mb, stderr = proc.stdout.strip().split("\t")
    assert code == "4", proc.stdout + proc.stderr
    assert int(rss_mb) < 1024
    assert stderr == ("error: huge.keras: layer 'hidden' (Dense) declares weights (784, 500,000), (500,000,) but the "
                      "file stores (784, 200), (200,): refused before building it (the config was edited or does "
                      "not belong to these weights)")


def test_parameter_cap_is_configurable(tmp_path, monkeypatch):
    import keras

    from digitkit.errors import ModelRefusedError, UsageError
    from digitkit.modelfiles.keras_file import check_archive

    path = tmp_path / "m.keras"
    keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)]).save(path)
    check_archive(path)
    monkeypatch.setenv("DIGITKIT_MAX_PARAMS", "7000")
    with pytest.raises(ModelRefusedError, match="stores 7,850 parameters, over digitkit's limit of 7,000"):
        check_archive(path)
    monkeypatch.setenv("DIGITKIT_MAX_PARAMS", "lots")
    with pytest.raises(UsageError, match="DIGITKIT_MAX_PARAMS"):
        check_archive(path)


def test_public_verbs_are_functions_and_import_digitkit_stays_light():
    probe = ("import sys, digitkit, digitkit.evaluation, digitkit.exporting, digitkit.inference.batch\n"
             "assert all(callable(getattr(digitkit, v)) and not isinstance(getattr(digitkit, v), type(sys))\n"
             "           for v in ('predict', 'evaluate', 'export', 'load'))\n"
             "print(','.join(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == ""


# (offset, byte) edits of the shipped 25-15-10.tflite that the runtime accepted at load and
# then failed on: "Invalid tensor index" (allocate_tensors), XNNPack reshape, a kernel check,
# and a name that is not UTF-8. Found by flipping random bytes (seed 2).
DAMAGE = {"invalid tensor index": [(20174, 65), (22352, 157)], "outputs index": [(22279, 243), (14112, 168)],
          "xnnpack reshape": [(8313, 211), (23114, 241), (11799, 169), (23372, 41)],
          "not utf-8": [(22503, 237)]}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_tflite_is_a_refused_model_file(cli, tmp_path, damage):
    from digitkit.errors import EXIT_MODEL_REFUSED

    data = bytearray((Path(__file__).parents[1] / "digitkit/pretrained/weights/25-15-10.tflite").read_bytes())
    for offset, value in DAMAGE[damage]:
        data[offset] = value
    model = tmp_path / "damaged.tflite"
    model.write_bytes(bytes(data))
    image = Path(__file__).parent / "fixtures/images/grey8.png"
    result = cli("predict", image, image, image, "--model", model)  # some damage shows only at a batch of 3
    assert result.exit_code == EXIT_MODEL_REFUSED, (result.stderr, result.exception)
    assert result.stderr.strip().splitlines()[-1].startswith("error: damaged.tflite is not a valid LiteRT model")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()[-1]) <= 200
