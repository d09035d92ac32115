"""The bn-cnn plugin: registered, conforming, deterministic at inference, trainable by script."""

from __future__ import annotations

import gzip
import json
import struct
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from digitkit.plugins.testing import assert_conforms
from digitkit_bncnn.model import SPEC, build_bn_cnn

PLUGIN_ROOT = Path(__file__).resolve().parents[1]


def test_entry_point_names_the_spec():
    points = {ep.name: ep for ep in metadata.entry_points(group="digitkit.models")}
    assert points["bn-cnn"].value == "digitkit_bncnn.model:SPEC"
    assert points["bn-cnn"].load() is SPEC


def test_spec_passes_the_digitkit_conformance_kit():
    results = assert_conforms(SPEC, module="digitkit_bncnn.model")
    assert {r.check for r in results} >= {"light-import", "params", "round-trip", "trains"}


def test_augmentation_is_off_at_inference():
    model = build_bn_cnn()
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    first = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), first, rtol=1e-6)
    # The same weights without augmentation layers give the same outputs.
    plain = build_bn_cnn(augment=False)
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(plain.predict(x, verbose=0), first, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"dropout": 1.0}, "0 <= dropout < 1"),
    ({"filters": (32,)}, "two positive filter counts"),
    ({"dense_units": 0}, "dense_units >= 1"),
])
def test_builder_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match="expected") as info:
        build_bn_cnn(**kwargs)
    assert fragment in str(info.value)


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_train_script_runs_on_tiny_idx_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for prefix, count in (("train", 64), ("t10k", 32)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (count, 28, 28)))
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, count))
    monkeypatch.syspath_prepend(str(PLUGIN_ROOT))
    sys.modules.pop("train_mnist", None)
    import train_mnist

    figures_path = tmp_path / "figures.json"
    assert train_mnist.main(["--data", str(tmp_path), "--epochs", "1", "--json", str(figures_path),
                             "--out", str(tmp_path / "bn-cnn.keras")]) == 0
    figures = json.loads(figures_path.read_text())
    assert figures["test_images"] == 32 and figures["epochs"] == 1
    assert 0.0 <= figures["test_accuracy"] <= 1.0
    assert (tmp_path / "bn-cnn.keras").stat().st_size > 0
