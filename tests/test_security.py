"""Malicious model files never get to run code; docs/security.md stays true to the code."""

from __future__ import annotations

import json
import re
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from digitkit.modelfiles import configwalk
from digitkit.modelfiles import keras_file as modelfile
from digitkit.modelfiles import trust
from digitkit.errors import ModelRefusedError
from digitkit.modelfiles.keras_file import load_model

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "tests" / "fixtures" / "models" / "ok.keras"
SECURITY = ROOT / "docs" / "security.md"


@pytest.fixture
def evil_module(tmp_path, monkeypatch):
    """An importable module that leaves a marker file when imported or called."""
    marker = tmp_path / "ran"
    (tmp_path / "evilpkg_dk.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\n"
        "def payload(*a, **k):\n"
        f"    open({str(marker)!r}, 'w').write('called')\n"
        "class Layer:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("evilpkg_dk", None)
    return marker


def _with_layer_edit(tmp_path: Path, edit) -> Path:
    with zipfile.ZipFile(GOOD) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    edit(config["config"]["layers"][-1])
    files["config.json"] = json.dumps(config).encode()
    path = tmp_path / "crafted.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("edit", [
    lambda layer: layer.update(module="evilpkg_dk", class_name="Layer", registered_name=None),
    lambda layer: layer["config"].update(activation={
        "module": "evilpkg_dk", "class_name": "function", "config": "payload", "registered_name": "function"}),
    lambda layer: layer["config"].update(kernel_initializer={
        "module": "evilpkg_dk", "class_name": "Layer", "config": {}, "registered_name": "evilpkg_dk>Layer"}),
    lambda layer: layer.update(module="keras.layers", class_name="Lambda", config={
        "name": "x", "function": {"module": "evilpkg_dk", "class_name": "function", "config": "payload",
                                  "registered_name": "function"}}),
], ids=["class", "activation-function", "initializer", "lambda-function"])
def test_crafted_config_never_imports_its_module(tmp_path, evil_module, edit):
    path = _with_layer_edit(tmp_path, edit)
    with pytest.raises(ModelRefusedError, match="refused"):
        load_model(path)
    assert not evil_module.exists() and "evilpkg_dk" not in sys.modules


def test_gadget_chain_of_cve_2025_9906_is_refused(tmp_path):
    """A Lambda whose function is keras.models.load_model(safe_mode=False) on another file."""
    def edit(layer):
        layer.update(module="keras.layers", class_name="Lambda", registered_name=None, config={
            "name": "unsafe", "function": {"module": "keras.models", "class_name": "function",
                                           "config": "load_model", "registered_name": "function"},
            "arguments": {"safe_mode": False}})

    with pytest.raises(ModelRefusedError, match="Lambda"):
        load_model(_with_layer_edit(tmp_path, edit))


def test_installed_keras_is_at_least_3_15_1():
    version = tuple(int(part) for part in re.findall(r"\d+", metadata.version("keras"))[:3])
    assert version >= (3, 15, 1)
    assert 'keras>=3.15.1' in (ROOT / "pyproject.toml").read_text()


def test_security_doc_states_the_real_limits():
    text = SECURITY.read_text(encoding="utf-8")
    assert f"at most {modelfile.MAX_MEMBERS} members" in text
    assert f"at most {modelfile.MAX_UNCOMPRESSED_BYTES >> 30} GiB" in text
    assert f"{modelfile.MAX_COMPRESSION_RATIO}:1" in text
    assert f"at most {modelfile.MAX_CONFIG_BYTES >> 20} MiB" in text
    assert f"at most {configwalk.MAX_DEPTH} levels" in text
    for name in trust.REFUSED_CLASSES:
        assert f"`{name}`" in text
    assert "safe_mode=True" in text and "private security advisory" in text


def test_safe_mode_cannot_be_turned_off_through_digitkit():
    import inspect

    source = inspect.getsource(modelfile)
    assert "safe_mode=True" in source and "safe_mode=False" not in source
    assert "enable_unsafe_deserialization" not in source
    assert "safe_mode" not in inspect.signature(load_model).parameters
