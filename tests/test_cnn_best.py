"""cnn-best trains through digitkit's own fit (cosine schedule, in-model augmentation) and its runs reload."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.spec import Recipe
from digitkit.training.schedule import learning_rate


def test_recipe_schedule_is_checked_and_described():
    with pytest.raises(ValueError, match="Received: schedule='linear'"):
        Recipe(schedule="linear")
    assert Recipe(schedule="cosine", learning_rate=0.003).describe().startswith("adam 0.003 cosine,")
    assert learning_rate(Recipe(), steps_per_epoch=10) == 0.001


def test_cosine_schedule_decays_over_the_planned_steps():
    schedule = learning_rate(Recipe(schedule="cosine", learning_rate=0.01, epochs=4), steps_per_epoch=25)
    assert float(schedule(0)) == pytest.approx(0.01)
    assert float(schedule(50)) == pytest.approx(0.01 * (0.01 + 0.99 * 0.5), rel=1e-4)
    assert float(schedule(100)) == pytest.approx(0.0001, rel=1e-3)


@pytest.mark.slow
def test_a_cnn_best_run_trains_and_its_keras_file_reloads(tmp_path):
    import digitkit
    from digitkit.data import load_digits
    from digitkit.data.adapt import adapt_images
    from digitkit.modelfiles.keras_file import load_model

    result = digitkit.fit("cnn-best", epochs=1, train_size=256, test_size=64, seed=0, out=tmp_path)
    assert result.status == "completed"
    assert result.run.manifest["recipe"]["schedule"] == "cosine"
    model = load_model(result.run.model_path)
    assert model.get_layer("augment").__class__.__name__ == "DigitAugment"
    from digitkit.plugins import registry

    x = adapt_images(load_digits("sample", "test").images[:8], registry.get_spec("cnn-best").input)
    out = np.asarray(model.predict(x, verbose=0))
    assert out.shape == (8, 10) and np.isfinite(out).all()
