"""Replay every bad model file of tests/fixtures/models through the loaders.

Only digitkit's ModelRefusedError may come out, and its one line must say what is wrong.
The files are made by tests/fixtures/make_models.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from digitkit.errors import EXIT_MODEL_REFUSED, ModelRefusedError
from digitkit.inference import load


def load_for_inference(ref):
    return load(str(ref), backend="keras")

from digitkit.modelfiles.keras_file import check_archive, load_model

MODELS = Path(__file__).parent / "fixtures" / "models"

# file -> words the message must hold. "keras" marks files load_model accepts (a valid
# Keras model) that only load_for_inference refuses.
REFUSED_BY_ARCHIVE = {
    "empty.keras": ["empty", "0 bytes"],
    "truncated.keras": ["truncated", "end is missing"],
    "not-a-zip.keras": ["not a .keras archive", "HTML page"],
    "legacy.h5": ["refused", "HDF5", "re-save it as .keras"],
    "hdf5-named.keras": ["HDF5 model named .keras", "refused"],
    "saved_model": ["SavedModel", "refused"],
    "lambda.keras": ["Lambda", "'scale'", "refused", "Python code"],
    "custom-class.keras": ["'evil.module'", "'Layer'", "not Keras, digitkit or an installed plugin"],
    "gadget-function.keras": ["enable_unsafe_deserialization", "keras.config", "refused"],
    "bad-json.keras": ["config.json is not valid JSON"],
    "missing-weights.keras": ["not a complete .keras archive", "model.weights.h5"],
    "zip-bomb.keras": ["3,072 MiB", "limit", "zip bomb"],
    "path-traversal.keras": ["'../../outside.sh'", "path traversal"],
    "bad-checksum.keras": ["damaged", "model.weights.h5", "checksum"],
}
REFUSED_FOR_INFERENCE = {
    "wrong-input.keras": ["(None, 32, 32, 3)", "not a square grey digit"],
    "wrong-output.keras": ["(None, 5)", "(None, 10)"],
    "nan-weights.keras": ["NaN", "diverged"],
}


def test_corpus_is_complete_and_small():
    on_disk = {p.name for p in MODELS.iterdir()}
    assert on_disk == {"ok.keras", *REFUSED_BY_ARCHIVE, *REFUSED_FOR_INFERENCE}
    total = sum(p.stat().st_size for p in MODELS.rglob("*") if p.is_file())
    assert total < 500_000


def _refusal(loader, path: Path) -> ModelRefusedError:
    with pytest.raises(ModelRefusedError) as caught:
        loader(str(path))
    error = caught.value
    assert error.exit_code == EXIT_MODEL_REFUSED
    assert "\n" not in str(error)
    return error


@pytest.mark.parametrize("name", sorted(REFUSED_BY_ARCHIVE))
def test_refused_before_keras_sees_it(name):
    for loader in (check_archive, load_model, load_for_inference):
        message = str(_refusal(loader, MODELS / name))
        for word in REFUSED_BY_ARCHIVE[name]:
            assert word in message, (loader.__name__, message)
        assert "File not found" not in message


@pytest.mark.parametrize("name", sorted(REFUSED_FOR_INFERENCE))
def test_valid_keras_file_refused_as_a_digit_model(name):
    assert load_model(MODELS / name) is not None  # Keras itself loads it...
    message = str(_refusal(load_for_inference, MODELS / name))  # ...digitkit will not predict with it
    for word in [name, *REFUSED_FOR_INFERENCE[name]]:
        assert word in message, message


def test_good_file_loads_for_inference():
    loaded = load_for_inference(str(MODELS / "ok.keras"))
    assert loaded.input_spec.shape == (28, 28, 1) and loaded.output == "probabilities"
    assert loaded.name == "ok" and loaded.run is None


def test_lambda_code_never_runs(tmp_path, monkeypatch):
    """The Lambda check happens before Keras deserialises anything."""
    import keras

    calls = []
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: calls.append(a))
    _refusal(load_model, MODELS / "lambda.keras")
    _refusal(load_model, MODELS / "custom-class.keras")
    assert calls == []


@pytest.mark.parametrize("name", ["lambda.keras", "nan-weights.keras", "truncated.keras"])
def test_cli_edge_shows_one_line_and_exit_4(name):
    """What a user sees when a command refuses the file: one line on stderr, exit code 4."""
    import typer
    from typer.testing import CliRunner

    from digitkit.cli.app import DigitkitGroup

    app = typer.Typer(cls=DigitkitGroup)

    @app.command()
    def load(ref: str) -> None:
        load_for_inference(ref)

    @app.command()
    def other() -> None:  # a second command keeps Typer from flattening the group
        pass

    result = CliRunner().invoke(app, ["load", str(MODELS / name)])
    assert result.exit_code == EXIT_MODEL_REFUSED
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in result.output
