"""How users meet the shipped weights: ``MODEL@pretrained``, the empty-home default, runs win.

Model-reference resolution and the Predictor belong to ``digitkit.inference``; these tests
skip until it is installed (they were written before it landed, to the agreed interface).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


IMAGES = Path(__file__).parent / "fixtures" / "images"


def sample_digits(count: int = 64) -> tuple[np.ndarray, np.ndarray]:
    from digitkit.data import SAMPLE_DIR
    from digitkit.data.idx import find_idx_files, read_idx_pair

    images, labels = read_idx_pair(*find_idx_files(SAMPLE_DIR, "test"))
    return images[:count].astype(np.float32) / 255.0, labels[:count]


def test_model_at_pretrained_loads_the_shipped_weights():
    import digitkit

    predictor = digitkit.load("cnn@pretrained")
    x, labels = sample_digits()
    probabilities = predictor.predict_proba(x)
    assert probabilities.shape == (len(x), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert (probabilities.argmax(axis=1) == labels).mean() >= 0.95


def test_cnn_best_at_pretrained_loads_without_training():
    import digitkit

    x, labels = sample_digits()
    assert (digitkit.load("cnn-best@pretrained").predict_proba(x).argmax(axis=1) == labels).mean() >= 0.97


def test_predict_with_an_empty_home_answers_with_the_pretrained_cnn(cli, home):
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())
    result = cli("predict", str(IMAGES / "mnist_style.png"))
    assert result.exit_code == 0, result.output
    assert "pretrained" in result.output.lower()


@pytest.mark.slow
def test_a_users_own_run_wins_over_the_shipped_weights(home):
    import digitkit

    result = digitkit.fit("cnn", epochs=1, train_size=300, test_size=100, seed=0)
    x, _ = sample_digits(32)
    mine = digitkit.load(str(result.run_path)).predict_proba(x)
    default = digitkit.load("cnn").predict_proba(x)
    shipped = digitkit.load("cnn@pretrained").predict_proba(x)
    np.testing.assert_allclose(default, mine, atol=1e-5)
    assert not np.allclose(default, shipped, atol=1e-3)


def test_exporting_shipped_weights_writes_to_the_current_folder_not_the_package(cli, home, tmp_path, monkeypatch):
    from digitkit import pretrained

    weights = pretrained.path("cnn", "keras").parent
    before = sorted(p.name for p in weights.iterdir())
    monkeypatch.chdir(tmp_path)
    result = cli("export", "cnn@pretrained", "--format", "keras")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "cnn-pretrained.keras").is_file()
    assert sorted(p.name for p in weights.iterdir()) == before
