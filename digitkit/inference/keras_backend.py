"""Running a ``.keras`` digit model: checked file, safe-mode load, checked model.

The file goes through :func:`digitkit.modelfiles.keras_file.load_model` (archive, config and weight
shapes checked before Keras allocates anything, then ``safe_mode=True``); the loaded model
must take one square grey digit and return 10 scores, and hold no NaN weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from digitkit.errors import ModelRefusedError, printable
from digitkit.inference.outputs import NUM_CLASSES
from digitkit.inference.shapes import shape_text, spec_from_sample_shape
from digitkit.spec import InputSpec

DIRECT_CALL_MAX = 64  # up to here one call is far cheaper than predict()'s tf.data set-up
PREDICT_BATCH = 512


def _single_shape(shapes: Any, what: str, where: str) -> tuple[Any, ...]:
    """The one shape of a model's input or output; a list of several is refused."""
    if isinstance(shapes, list):
        if len(shapes) != 1:
            raise ModelRefusedError(f"{where}: the model has {len(shapes)} {what}s; a digit model has one")
        shapes = shapes[0]
    return tuple(shapes)


def input_spec_of(model: Any, *, where: str = "model") -> InputSpec:
    """The digit size and sample shape of a Keras model's input (see :func:`spec_from_sample_shape`)."""
    return spec_from_sample_shape(_single_shape(model.input_shape, "input", where)[1:], where=where)


def validate_digit_model(model: Any, *, where: str = "model") -> InputSpec:
    """Refuse a model that cannot be a digit classifier: one grey digit in, 10 scores out.

    Returns:
        The input spec inferred from the model.
    """
    inferred = input_spec_of(model, where=where)
    output = _single_shape(model.output_shape, "output", where)
    if len(output) != 2 or output[-1] != NUM_CLASSES:
        raise ModelRefusedError(
            f"{where}: the model's output {shape_text(output)} is not one score per digit class (None, {NUM_CLASSES})",
            hint="it was made for another task")
    return inferred


def check_finite_weights(model: Any, *, where: str = "model") -> None:
    """Refuse a model whose weights hold NaN or infinity (training diverged).

    Such a model outputs NaN for every image; refusing it at load names the cause.
    """
    for weight in model.weights:
        values = np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight)
        if values.size and not np.isfinite(values).all():
            bad = int(values.size - np.isfinite(values).sum())
            raise ModelRefusedError(
                f"{where}: the model's weight {getattr(weight, 'path', getattr(weight, 'name', '?'))} holds {bad:,} NaN or "
                "infinite values: training diverged", hint="train again with a lower learning rate")


def output_kind_of(model: Any) -> str:
    """'probabilities' when the last layer ends in softmax, 'logits' otherwise."""
    activation = getattr(model.layers[-1], "activation", None)
    return "probabilities" if getattr(activation, "__name__", "") == "softmax" else "logits"


class KerasModel:
    """A checked Keras digit classifier: ``predict(x)`` maps (N, *shape) float32 to raw outputs.

    Raises:
        ModelRefusedError: the file is refused, or the model is not a digit model.
    """

    def __init__(self, path: str | Path) -> None:
        from digitkit.modelfiles.keras_file import load_model

        self.path = Path(path)
        self.where = printable(self.path.name)
        self.model = load_model(self.path)
        self.input_spec = validate_digit_model(self.model, where=self.where)
        check_finite_weights(self.model, where=self.where)
        self.output_kind = output_kind_of(self.model)

    def predict(self, x: np.ndarray) -> np.ndarray:
        if len(x) <= DIRECT_CALL_MAX:
            return np.asarray(self.model(x, training=False))
        return np.asarray(self.model.predict(x, batch_size=PREDICT_BATCH, verbose=0))
