"""Which input shapes a digit model may take, shared by both backends."""

from __future__ import annotations

import math
from typing import Any, Sequence

from digitkit.errors import ModelRefusedError
from digitkit.spec import InputSpec

# Sides a digit may be resized to: 8x8 (sklearn digits) up to 64x64; MNIST is 28.
MIN_DIGIT_SIDE = 8
MAX_DIGIT_SIDE = 64
HINT = "digitkit models take one square grey digit: (784,), (28, 28) or (28, 28, 1), or another side"


def shape_text(shape: Sequence[Any]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def spec_from_sample_shape(sample: Sequence[Any], *, where: str) -> InputSpec:
    """The digit size a model's per-sample input shape means.

    Accepted: ``(side*side,)``, ``(side, side)`` and ``(side, side, 1)`` for a side between
    8 and 64 pixels: a square grey digit, flat or not.

    Raises:
        ModelRefusedError: anything else, e.g. a colour image ``(32, 32, 3)``.
    """
    shown = shape_text((None, *sample))
    if not sample or any(d is None or int(d) <= 0 for d in sample):
        raise ModelRefusedError(f"{where}: the model's input {shown} has no fixed size", hint=HINT)
    shape = tuple(int(d) for d in sample)
    if len(shape) == 1:
        side = math.isqrt(shape[0])
        square = side * side == shape[0]
    else:
        side = shape[0]
        square = shape[0] == shape[1] and (len(shape) == 2 or (len(shape) == 3 and shape[2] == 1))
    if not square or not MIN_DIGIT_SIDE <= side <= MAX_DIGIT_SIDE:
        raise ModelRefusedError(f"{where}: the model's input {shown} is not a square grey digit", hint=HINT)
    return InputSpec(image_size=side, shape=shape)


def check_declared(declared: InputSpec | None, actual: InputSpec, *, where: str, file: str) -> InputSpec:
    """Refuse a model file whose input contradicts what its run's manifest declares."""
    if declared is not None and tuple(declared.shape) != tuple(actual.shape):
        raise ModelRefusedError(
            f"{where}: the run's manifest says the model takes {shape_text((None, *declared.shape))} but {file} "
            f"takes {shape_text((None, *actual.shape))}", hint="the model file was replaced; train it again")
    return declared or actual
