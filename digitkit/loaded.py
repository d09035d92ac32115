"""A trained model ready for inference, whatever the user pointed at.

Resolves a run id / path / model name (see :func:`digitkit.runs.resolve_model`), loads the
``.keras`` file in safe mode, and works out the input and output kind: from the run's
manifest when there is one, from the model itself otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitkit import runs
from digitkit.errors import ModelRefusedError
from digitkit.spec import InputSpec


@dataclass
class LoadedModel:
    model: Any
    input_spec: InputSpec
    output: str  # "logits" | "probabilities"
    name: str
    path: Path
    run: runs.Run | None


def input_spec_of(model: Any) -> InputSpec:
    """Infer the digit size and sample shape from a Keras model's input."""
    shape = tuple(int(d) for d in model.input_shape[1:])
    count = int(np.prod(shape))
    side = math.isqrt(count)
    if side * side != count:
        raise ModelRefusedError(f"model input {shape} is not a square grey digit")
    return InputSpec(image_size=side, shape=shape)


def output_kind_of(model: Any) -> str:
    """'probabilities' when the last layer ends in softmax, 'logits' otherwise."""
    activation = getattr(model.layers[-1], "activation", None)
    return "probabilities" if getattr(activation, "__name__", "") == "softmax" else "logits"


def load_for_inference(ref: str) -> LoadedModel:
    """Resolve and load a model for evaluate / predict / export."""
    from digitkit.modelfile import load_model

    resolved = runs.resolve_model(ref)
    model = load_model(resolved.model_path)
    spec_meta = resolved.run.manifest.get("spec") if resolved.run else None
    if spec_meta:
        input_spec = InputSpec(image_size=spec_meta["input"]["image_size"], shape=tuple(spec_meta["input"]["shape"]))
        output = spec_meta["output"]
    else:
        input_spec, output = input_spec_of(model), output_kind_of(model)
    name = resolved.model_name or resolved.model_path.stem
    return LoadedModel(model, input_spec, output, name, resolved.model_path, resolved.run)


def to_probabilities(outputs: np.ndarray, output: str) -> np.ndarray:
    """Softmax for logits; probabilities pass through. NaN stays NaN (callers check)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if output == "logits":
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        outputs = exp / exp.sum(axis=1, keepdims=True)
    return outputs.astype(np.float32)
