"""`fit --init-from REF`: fine-tuning from a run, shipped weights or a file, with --freeze and --replay."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from digitkit.errors import UsageError
from digitkit.training import fit

_SPEC = importlib.util.spec_from_file_location("data_fixtures", Path(__file__).parent / "fixtures/data/make_fixtures.py")
fixtures = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fixtures)

QUICK = {"epochs": 2, "seed": 3}


@pytest.fixture
def mine(tmp_path):
    """A user's few labelled pictures of digits 0-2 (6 each: 5 to train on, 1 held out)."""
    return str(fixtures.make_image_folder(tmp_path / "mine", per_class=6))


def _weights(path: Path) -> list[np.ndarray]:
    from digitkit.modelfiles import load_model

    return load_model(path).get_weights()


def test_pretrained_parent_with_freeze_and_replay_is_recorded_and_scored(home, mine):
    from digitkit import pretrained

    result = fit("25-15-10", init_from="25-15-10@pretrained", dataset=mine, freeze=True, replay=0.5,
                 replay_data="sample", **QUICK)
    manifest = result.run.manifest
    parent_file = pretrained.path("25-15-10", "keras")
    assert manifest["parent"]["ref"] == "25-15-10@pretrained" and manifest["parent"]["pretrained"] is True
    assert manifest["parent"]["sha256"].startswith("sha256:")
    assert manifest["options"]["init_from"] == "25-15-10@pretrained" and manifest["options"]["replay"] == 0.5
    # the few-example recipe: a tenth of the learning rate, small batches, early stopping
    assert manifest["recipe"]["learning_rate"] == pytest.approx(pretrained.card("25-15-10")["recipe"]
                                                               ["learning_rate"] * 0.03)
    assert manifest["recipe"]["batch_size"] <= 32 and manifest["options"]["early_stopping"] is True
    compare = manifest["finetune"]
    assert compare["held_out"]["size"] == 3 and compare["mnist_test"]["size"] == 1000
    assert 0 <= compare["held_out"]["before"] <= 1 and 0 <= compare["mnist_test"]["after"] <= 1
    assert any("replay: " in note and "sample" in note for note in manifest["notes"])
    before, after = _weights(parent_file), _weights(result.run.model_path)
    assert np.array_equal(before[0], after[0])  # feature layers frozen
    assert not np.array_equal(before[-2], after[-2])  # the classifier learned


def _config(**options):
    from digitkit.training.config import new_config
    from digitkit.training.options import FitOptions

    return new_config(FitOptions.from_keywords(**options).check())


def test_the_few_example_recipe_holds_out_a_slice_and_stops_early_on_it(home, mine):
    from digitkit.training import finetune

    # measured against a fixed 20 epochs on every picture (docs/personalise.md): that gained
    # 3-6 pictures on upscale8 but scored below the untouched model on binary16
    config = _config(model="cnn-best", init_from="cnn-best@pretrained", dataset=mine, replay=0.5)
    assert config.recipe.validation_split == finetune.MIN_VALIDATION_SPLIT == 0.2 and config.early_stopping
    assert config.recipe.epochs == finetune.EPOCHS == 15 and config.patience == finetune.PATIENCE == 5
    assert config.recipe.learning_rate == pytest.approx(0.003 * finetune.LEARNING_RATE_FACTOR)
    assert config.recipe.batch_size == 32 and config.augment is False  # cnn-best augments itself
    # explicit choices win (the fixed-epoch alternative, as benchmarks/personalise.py --fit-arg passes it)
    fixed = _config(model="cnn-best", init_from="cnn-best@pretrained", dataset=mine, validation_split=0.0,
                    epochs=20, patience=20)
    assert fixed.recipe.validation_split == 0 and fixed.recipe.epochs == 20 and fixed.patience == 20
    assert config.recipe.writing_styles == 0  # the user's own 7s and 1s are never redrawn
    own = _config(model="cnn-best", dataset=mine).recipe  # without --init-from: the model's own
    assert (own.epochs, own.writing_styles) == (30, 0.3)


def test_the_pretrained_weights_are_the_starting_point(home, mine):
    from digitkit import pretrained

    result = fit("25-15-10", init_from="25-15-10@pretrained", dataset=mine, learning_rate=1e-9, epochs=1, seed=1)
    before, after = _weights(pretrained.path("25-15-10", "keras")), _weights(result.run.model_path)
    assert all(np.allclose(a, b, atol=1e-4) for a, b in zip(before, after))


@pytest.mark.slow
def test_a_run_id_and_a_model_file_are_parents_too(home, mine, make_run, cli):
    parent = make_run()
    by_id = fit("25-15-10", init_from=parent.id, dataset=mine, **QUICK)
    assert by_id.run.manifest["parent"]["run"] == parent.id
    by_file = fit("25-15-10", init_from=str(parent.model_path), dataset=mine, **QUICK)
    assert by_file.run.manifest["parent"]["file"] == str(parent.model_path)
    shown = cli("runs", "show", by_id.run_id)
    assert shown.exit_code == 0
    assert f"parent" in shown.stdout and parent.id in shown.stdout
    assert "your held-out" in shown.stdout and "MNIST test" in shown.stdout and "before" in shown.stdout


@pytest.mark.parametrize("args, message", [
    (["cnn", "--init-from", "25-15-10@pretrained"], "takes input (400,)"),
    (["25-15-10", "--init-from", "256-256-linear@pretrained"], "has no .keras file"),
    (["25-15-10", "--freeze"], "--freeze needs --init-from"),
    (["25-15-10", "--replay", "0.3"], "--replay needs --init-from"),
    (["25-15-10", "--init-from", "25-15-10@pretrained", "--replay", "1.5"], "expected --replay 0 < value < 1"),
    (["25-15-10", "--init-from", "no-such-thing@pretrained"], "no pretrained weights"),
])
def test_bad_references_are_refused_before_tensorflow(cli, args, message):
    result = cli("fit", *args, "--dataset", "sample")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_a_parent_with_other_classes_is_refused(home, make_run):
    parent = make_run()
    manifest = json.loads((parent.path / "manifest.json").read_text())
    parent.update_manifest(spec={**manifest["spec"], "num_classes": 5})
    with pytest.raises(UsageError, match="has 5 classes"):
        fit("25-15-10", init_from=parent.id, dataset="sample")


def test_another_architecture_is_refused_after_loading(home, mine):
    with pytest.raises(UsageError, match="another architecture"):
        fit("cnn", init_from="cnn-best@pretrained", dataset=mine, **QUICK)


def test_an_interrupted_fine_tune_resumes_frozen_and_replaying(home, mine):
    import os
    import signal

    import keras

    from digitkit import pretrained, runs
    from digitkit.errors import Interrupted

    class SigintAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted):
        fit("25-15-10", init_from="25-15-10@pretrained", dataset=mine, freeze=True, replay=0.5,
            replay_data="sample", patience=5, epochs=3, seed=2, callbacks=[SigintAfterFirstEpoch()])
    (run,) = runs.list_runs()
    resumed = fit(resume=run.id)
    assert resumed.status == "completed" and resumed.epochs_completed == 3
    assert any("replay: " in note for note in resumed.notes)
    before, after = _weights(pretrained.path("25-15-10", "keras")), _weights(resumed.run.model_path)
    assert np.array_equal(before[0], after[0]) and not np.array_equal(before[-2], after[-2])
