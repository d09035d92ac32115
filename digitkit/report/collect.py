"""Gather what fit and evaluate saved in a run, evaluating only when nothing was saved.

Reading the layer table straight from the ``.keras`` archive (config.json + weights file)
keeps a report of an evaluated run free of TensorFlow, which is most of its speed.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from digitkit import runs
from digitkit.errors import InputError, UsageError


@dataclass
class RunData:
    """One run as the report sees it."""

    run: runs.Run
    manifest: dict[str, Any]
    history: dict[str, list] | None
    evaluation: Any  # digitkit.evaluation.Evaluation
    layers: list[dict[str, Any]] | None
    test_images: np.ndarray | None
    train_labels: np.ndarray | None
    train_images: np.ndarray | None
    evaluated_now: bool = False
    notes: list[str] = field(default_factory=list)
    numbers: Any = None  # digitkit.evaluation.NumbersEvaluation, when `evaluate --numbers` saved one

    @property
    def label(self) -> str:
        return self.run.id


def resolve_run(ref: str) -> runs.Run:
    """A run id, run folder or model name (its latest completed run)."""
    from digitkit.inference.refs import resolve

    resolved = resolve(ref)
    if resolved.run is None:
        raise UsageError(f"{ref} is a model file, not a run", hint="`digitkit report` needs a run id or run folder")
    return resolved.run


def _layer_details(config: dict[str, Any]) -> str:
    keys = ("units", "filters", "kernel_size", "pool_size", "strides", "rate", "activation", "target_shape")
    parts = []
    for key in keys:
        value = config.get(key)
        if value not in (None, "linear") and not isinstance(value, dict):
            parts.append(f"{key}={tuple(value) if isinstance(value, list) else value}")
    return ", ".join(parts)


def _weight_counts(archive: zipfile.ZipFile) -> dict[str, int]:
    """Parameters per layer name, from the HDF5 weights file inside the archive."""
    import io

    import h5py

    counts: dict[str, int] = {}
    with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as weights:
        def visit(name: str, obj: Any) -> None:
            parts = name.split("/")
            if isinstance(obj, h5py.Dataset) and "layers" in parts:
                layer = parts[parts.index("layers") + 1]
                counts[layer] = counts.get(layer, 0) + int(np.prod(obj.shape))
        weights.visititems(visit)
    return counts


def read_layers(model_path: Path) -> list[dict[str, Any]] | None:
    """Layer name, type, settings and parameters; ``None`` if the archive cannot be read."""
    try:
        with zipfile.ZipFile(model_path) as archive:
            config = json.loads(archive.read("config.json"))
            counts = _weight_counts(archive)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    layers = config.get("config", {}).get("layers", [])
    # The weights file names layers by their snake-cased class name plus an occurrence
    # suffix (dense, dense_1, ...), not by the layer names the config uses.
    seen: dict[str, int] = {}
    rows = []
    for layer in layers:
        cls, cfg = layer.get("class_name", "?"), layer.get("config", {})
        key = _snake(cls)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        params = counts.get(key if occurrence == 0 else f"{key}_{occurrence}", counts.get(cfg.get("name", ""), 0))
        rows.append({"name": cfg.get("name", "?"), "type": cls, "details": _layer_details(cfg),
                     "params": int(params)})
    return rows


def _snake(name: str) -> str:
    """Keras' to_snake_case: 'Conv2D' -> 'conv2d', 'BatchNormalization' -> 'batch_normalization'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _load_split(name: str | None, split: str, notes: list[str]) -> Any:
    from digitkit.data import load_digits

    try:
        digits = load_digits(name, split)
    except Exception as exc:  # a dataset that has gone away must not sink the whole report
        notes.append(f"could not load the {split} split of {name!r}: {exc}")
        return None
    notes.extend(digits.notes)
    return digits


def gather(ref: str) -> RunData:
    """Everything the report shows about one run."""
    from digitkit.evaluation import evaluate, load_evaluation, load_numbers_evaluation

    run = resolve_run(ref)
    manifest = run.manifest
    notes: list[str] = []
    try:
        history = run.read(runs.HISTORY_JSON)
    except InputError as exc:
        history, _ = None, notes.append(f"history unreadable: {exc}")
    evaluation, evaluated_now = load_evaluation(run), False
    if evaluation is None:
        evaluation, evaluated_now = evaluate(str(run.path)), True
        notes.append("no saved evaluation: evaluated the model now and saved it in the run")
    dataset = evaluation.data["dataset"]
    test_images = evaluation.images
    if test_images is None:
        digits = _load_split(dataset["name"], dataset["split"], notes)
        if digits is not None and digits.fingerprint() == dataset.get("fingerprint"):
            test_images = digits.images
        elif digits is not None:
            notes.append("the evaluated split has changed since; gallery left out (run `digitkit evaluate` again)")
    train = _load_split(run.trained_dataset() or dataset["name"], "train", notes)
    return RunData(run=run, manifest=manifest, history=history, evaluation=evaluation,
                   layers=read_layers(run.model_path), test_images=test_images,
                   train_labels=None if train is None else train.labels,
                   train_images=None if train is None else train.images,
                   evaluated_now=evaluated_now, notes=notes, numbers=load_numbers_evaluation(run))
