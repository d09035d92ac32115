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
from digitkit.errors import ModelRefusedError, printable
from digitkit.spec import InputSpec


@dataclass
class LoadedModel:
    model: Any
    input_spec: InputSpec
    output: str  # "logits" | "probabilities"
    name: str
    path: Path
    run: runs.Run | None


# Sides a digit may be resized to: 8x8 (sklearn digits) up to 64x64; MNIST is 28.
MIN_DIGIT_SIDE = 8
MAX_DIGIT_SIDE = 64
NUM_CLASSES = 10


def _shape_text(shape: Any) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _single_shape(shapes: Any, what: str, where: str) -> tuple[Any, ...]:
    """The one shape of a model's input or output; a list of several is refused."""
    if isinstance(shapes, list):
        if len(shapes) != 1:
            raise ModelRefusedError(f"{where}: the model has {len(shapes)} {what}s; a digit model has one")
        shapes = shapes[0]
    return tuple(shapes)


def input_spec_of(model: Any, *, where: str = "model") -> InputSpec:
    """Infer the digit size and sample shape from a Keras model's input.

    Accepted: ``(side*side,)``, ``(side, side)`` and ``(side, side, 1)`` for a side between
    8 and 64 pixels: a square grey digit, flat or not.

    Raises:
        ModelRefusedError: anything else, e.g. a colour image ``(32, 32, 3)``.
    """
    raw = _single_shape(model.input_shape, "input", where)
    sample = raw[1:]
    hint = "digitkit models take one square grey digit: (784,), (28, 28) or (28, 28, 1), or another side"
    if any(d is None for d in sample) or not sample:
        raise ModelRefusedError(f"{where}: the model's input {_shape_text(raw)} has no fixed size", hint=hint)
    shape = tuple(int(d) for d in sample)
    if len(shape) == 1:
        side = math.isqrt(shape[0])
        square = side * side == shape[0]
    else:
        side = shape[0]
        square = shape[0] == shape[1] and (len(shape) == 2 or (len(shape) == 3 and shape[2] == 1))
    if not square or not MIN_DIGIT_SIDE <= side <= MAX_DIGIT_SIDE:
        raise ModelRefusedError(f"{where}: the model's input {_shape_text(raw)} is not a square grey digit",
                                hint=hint)
    return InputSpec(image_size=side, shape=shape)


def validate_digit_model(model: Any, input_spec: InputSpec | None = None, *, where: str = "model") -> InputSpec:
    """Refuse a model that cannot be a digit classifier: one grey digit in, 10 scores out.

    Args:
        model: a loaded Keras model.
        input_spec: the input the run's manifest promises, checked against the model.
        where: the file name, to start the message with.

    Returns:
        The input spec inferred from the model.

    Raises:
        ModelRefusedError: wrong input (colour, not square, several inputs), output other than
            ``(None, 10)``, or a model that contradicts its manifest.
    """
    inferred = input_spec_of(model, where=where)
    output = _single_shape(model.output_shape, "output", where)
    if len(output) != 2 or output[-1] != NUM_CLASSES:
        raise ModelRefusedError(
            f"{where}: the model's output {_shape_text(output)} is not one score per digit class (None, {NUM_CLASSES})",
            hint="it was trained for another task")
    if input_spec is not None and tuple(input_spec.shape) != inferred.shape:
        raise ModelRefusedError(
            f"{where}: the run's manifest says the model takes {_shape_text((None, *input_spec.shape))} but model.keras "
            f"takes {_shape_text((None, *inferred.shape))}", hint="the model file was replaced; train it again")
    return inferred


def check_finite_weights(model: Any, *, where: str = "model") -> None:
    """Refuse a model whose weights hold NaN or infinity (training diverged).

    Such a model outputs NaN for every image, and ``argmax`` of NaN is 0: it would
    silently "predict 0".

    Raises:
        ModelRefusedError: naming the first bad weight.
    """
    for weight in model.weights:
        values = np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight)
        if values.size and not np.isfinite(values).all():
            bad = int(values.size - np.isfinite(values).sum())
            raise ModelRefusedError(
                f"{where}: the model's weight {getattr(weight, 'path', getattr(weight, 'name', '?'))} holds {bad:,} NaN or "
                "infinite values: training diverged", hint="train again with a lower learning rate")


def check_finite_outputs(outputs: Any, *, name: str = "the model") -> np.ndarray:
    """Refuse model outputs (or probabilities) that hold NaN or infinity.

    Call it on the raw outputs before ``argmax``: ``argmax`` of an all-NaN row is 0, so an
    unchecked broken model "predicts 0".

    Args:
        outputs: array of shape (N, classes).
        name: what produced them, for the message.

    Returns:
        ``outputs`` as a numpy array, for chaining.

    Raises:
        ModelRefusedError: saying how many rows are affected.
    """
    array = np.asarray(outputs)
    finite = np.isfinite(array)
    if not finite.all():
        rows = int((~finite.reshape(len(array), -1).all(axis=1)).sum()) if array.ndim >= 1 and len(array) else 0
        raise ModelRefusedError(
            f"{name} produced NaN or infinite scores for {rows:,} of {len(array):,} images: its results are "
            "meaningless", hint="the model is broken (diverged training?); train it again")
    return array


def output_kind_of(model: Any) -> str:
    """'probabilities' when the last layer ends in softmax, 'logits' otherwise."""
    activation = getattr(model.layers[-1], "activation", None)
    return "probabilities" if getattr(activation, "__name__", "") == "softmax" else "logits"


def load_for_inference(ref: str) -> LoadedModel:
    """Resolve and load a model for evaluate / predict / export."""
    from digitkit.modelfile import load_model

    resolved = runs.resolve_model(ref)
    model = load_model(resolved.model_path)
    where = printable(str(resolved.model_path.name))
    spec_meta = resolved.run.manifest.get("spec") if resolved.run else None
    if spec_meta:
        input_spec = _manifest_input_spec(spec_meta)
        output = spec_meta.get("output") or output_kind_of(model)
        validate_digit_model(model, input_spec, where=where)
    else:
        input_spec, output = validate_digit_model(model, where=where), output_kind_of(model)
    check_finite_weights(model, where=where)
    name = resolved.model_name or resolved.model_path.stem
    return LoadedModel(model, input_spec, output, name, resolved.model_path, resolved.run)


def _manifest_input_spec(spec_meta: dict[str, Any]) -> InputSpec:
    try:
        return InputSpec(image_size=int(spec_meta["input"]["image_size"]), shape=tuple(spec_meta["input"]["shape"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelRefusedError(f"the run's manifest has no usable input description ({exc})") from exc


def to_probabilities(outputs: np.ndarray, output: str) -> np.ndarray:
    """Softmax for logits; probabilities pass through. NaN stays NaN (callers check)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if output == "logits":
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        outputs = exp / exp.sum(axis=1, keepdims=True)
    return outputs.astype(np.float32)
