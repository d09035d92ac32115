"""Tiny trained runs for predict/export tests, trained once per session with plain Keras.

Each run is a real run directory (manifest, model.keras, model.tflite) made with
digitkit.runs.create_run under a session folder; tests pass the run folder as the model
reference, or copy it into their own digitkit home with :func:`install_run`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

TRAIN_COUNT = 600


def train_run(spec_name: str, root: Path, epochs: int = 1, tflite: bool = True):
    """Train ``spec_name`` on a few hundred bundled digits and save it as a completed run."""
    import keras

    from digitkit import runs
    from digitkit.plugins import registry
    from digitkit.data import load_digits
    from digitkit.data.adapt import adapt_images, encode_labels
    from digitkit.exporting import export_litert
    from digitkit.training.compile import compile_for
    from digitkit.modelfiles.keras_file import save_model

    spec = registry.get_spec(spec_name)
    digits = load_digits("sample", split="train")
    x = adapt_images(digits.images[:TRAIN_COUNT], spec.input)
    y = encode_labels(digits.labels[:TRAIN_COUNT], spec.recipe.label_encoding)
    keras.utils.set_random_seed(0)
    model = compile_for(spec, spec.recipe.replace(optimizer="adam", learning_rate=0.003))
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    run = runs.create_run(spec.name, {"spec": spec.metadata(), "recipe": spec.recipe.to_dict(), "seed": 0},
                          root=root)
    save_model(model, run.model_path)
    if tflite:
        export_litert(model, run.file(runs.TFLITE))
    run.update_manifest(status="completed", epochs_completed=epochs)
    return run


def install_run(run, home: Path) -> Path:
    """Copy a session run into a test's digitkit home; returns the copy's folder."""
    target = home / "runs" / run.id
    shutil.copytree(run.path, target)
    return target


def digit_png(path: Path, index: int = 0, dark_on_light: bool = True, scale: int = 4) -> int:
    """Write a bundled test digit as a PNG (dark ink on white paper); returns its label."""
    from PIL import Image

    from digitkit.data import load_digits

    digits = load_digits("sample", split="test")
    image = digits.images[index]
    if dark_on_light:
        image = 255 - image
    padded = np.pad(image, 8, constant_values=255 if dark_on_light else 0)
    Image.fromarray(padded).resize((padded.shape[1] * scale, padded.shape[0] * scale),
                                   Image.Resampling.BILINEAR).save(path)
    return int(digits.labels[index])


_CACHE: dict = {}


def trained(spec_name: str, tmp_path_factory, epochs: int = 2):
    """A session-wide trained run of ``spec_name`` (trained on first use only)."""
    if spec_name not in _CACHE:
        root = tmp_path_factory.getbasetemp() / "predict-session-runs"
        _CACHE[spec_name] = train_run(spec_name, root, epochs=epochs)
    return _CACHE[spec_name]
