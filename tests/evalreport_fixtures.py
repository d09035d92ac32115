"""Tiny trained runs for the evaluate / report / bench tests, made with plain Keras.

Training goes through plain Keras (not ``digitkit.training.fit``) so these tests depend only on
the run-directory contract: manifest, model.keras, history.json, metrics.json.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

TRAIN_SIZE = 500


def train_tiny_run(model_name: str = "dense-sigmoid", root: Path | None = None, *, epochs: int = 1,
                   validation: bool = True, seed: int = 0, train_size: int = TRAIN_SIZE, dataset: str = "sample"):
    """Train a zoo model briefly on bundled digits and lay it out as a completed run."""
    import keras

    from digitkit import runs
    from digitkit.plugins import registry
    from digitkit.data import load_digits
    from digitkit.data.adapt import adapt_images, encode_labels
    from digitkit._internal.environment import library_versions
    from digitkit.modelfiles.keras_file import save_model

    started = time.perf_counter()
    spec = registry.get_spec(model_name)
    recipe = spec.recipe.replace(epochs=epochs, validation_split=0.2 if validation else 0.0)
    train = load_digits(dataset, "train")
    test = load_digits(dataset, "test")
    x = adapt_images(train.images[:train_size], spec.input)
    y = encode_labels(train.labels[:train_size], recipe.label_encoding)
    keras.utils.set_random_seed(seed)
    from digitkit.training.compile import compile_for

    model = compile_for(spec, recipe.replace(optimizer="adam", learning_rate=0.01, from_logits=spec.output == "logits"))
    run = runs.create_run(model_name, {
        "plugin": {"distribution": "digitkit", "version": "0.1.0"},
        "spec": spec.metadata(), "recipe": recipe.to_dict(), "overrides": {"epochs": epochs}, "seed": seed,
        "dataset": {"name": dataset, "source": train.source, "fingerprint": train.fingerprint(),
                    "train_size": train_size, "validation_size": int(train_size * recipe.validation_split),
                    "test_size": len(test)},
        "versions": library_versions(), "machine": {},
    }, root=root)
    epoch_seconds = []
    history: dict[str, list] = {}
    for _ in range(epochs):
        tick = time.perf_counter()
        fitted = model.fit(x, y, batch_size=64, epochs=1, verbose=0,
                           validation_split=recipe.validation_split or 0.0)
        epoch_seconds.append(time.perf_counter() - tick)
        for key, values in fitted.history.items():
            history.setdefault(key, []).append(float(values[-1]))
    save_model(model, run.model_path)
    run.write(runs.HISTORY_JSON, {"epoch": list(range(1, epochs + 1)), **history, "epoch_seconds": epoch_seconds})
    test_loss, test_accuracy = model.evaluate(adapt_images(test.images, spec.input),
                                              encode_labels(test.labels, recipe.label_encoding), verbose=0)
    test_metrics = {"loss": float(test_loss), "accuracy": float(test_accuracy)}
    run.write(runs.METRICS, test_metrics)
    run.update_manifest(status="completed", ended=runs.now_iso(), duration_s=time.perf_counter() - started,
                        epochs_completed=epochs, test_metrics=test_metrics)
    return run


def copy_run(run, home: Path, new_name: str | None = None):
    """Copy a session-wide run into this test's home (tests may write into it)."""
    from digitkit import runs

    target = home / "runs" / (new_name or run.id)
    shutil.copytree(run.path, target)
    if new_name:
        runs.Run(target).update_manifest(id=new_name)
    return runs.Run(target)


@pytest.fixture(scope="session")
def tiny_run_template(tmp_path_factory):
    """One trained dense-sigmoid run (2 epochs, with validation), shared by the session."""
    return train_tiny_run("dense-sigmoid", tmp_path_factory.mktemp("template-runs"), epochs=2)


@pytest.fixture
def tiny_run(tiny_run_template, home):
    """The shared tiny run, copied into this test's home."""
    return copy_run(tiny_run_template, home)


def nan_model_file(path: Path) -> Path:
    """A valid .keras file whose outputs are all NaN (a diverged model)."""
    import keras

    from digitkit.modelfiles.keras_file import save_model

    inputs = keras.Input(shape=(784,))
    dense = keras.layers.Dense(10, activation="softmax")
    model = keras.Model(inputs, dense(inputs))
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel, np.full_like(bias, np.nan)])
    return save_model(model, path)


@pytest.fixture(scope="session")
def no_validation_run_template(tmp_path_factory):
    """A 25-15-10 run (20x20 input, logits) trained for one epoch without validation data."""
    return train_tiny_run("25-15-10", tmp_path_factory.mktemp("template-runs-noval"), epochs=1, validation=False)


@pytest.fixture
def no_validation_run(no_validation_run_template, home):
    return copy_run(no_validation_run_template, home)
