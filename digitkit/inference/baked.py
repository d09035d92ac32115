"""A Keras model with its calibration inside, for files that leave their run.

A run's own ``model.keras`` and ``model.tflite`` stay raw: the Predictor applies the
temperature recorded in the manifest. A file exported elsewhere (``digitkit export --out``,
``<run>/exports/``) travels without the manifest, so the temperature goes into the graph:
a phone running the ``.tflite`` gets the probabilities ``digitkit predict`` shows.
"""

from __future__ import annotations

from typing import Any

from digitkit.inference.outputs import Calibration


def with_temperature(model: Any, calibration: Calibration, kind: str, *, keras_file: bool = False) -> Any | None:
    """``model`` followed by its temperature, or ``None`` when it cannot be baked in.

    Logits are divided by T (a ``Rescaling`` layer, loadable in safe mode); probabilities
    become ``softmax(log p / T)``, which needs a ``Lambda`` layer: fine for LiteRT, ONNX and
    SavedModel, which are converted here, but refused by Keras' safe mode in a ``.keras``
    file, so ``keras_file=True`` returns ``None`` for them.
    """
    if calibration.identity:
        return model
    if kind == "probabilities" and keras_file:
        return None
    import keras

    inputs = keras.Input(shape=model.input_shape[1:], name="digit")
    outputs = model(inputs)
    scale = 1.0 / calibration.temperature
    if kind == "probabilities":
        outputs = keras.layers.Lambda(
            lambda p: keras.ops.softmax(keras.ops.log(keras.ops.maximum(p, 1e-12)) * scale),
            name="temperature")(outputs)
    else:
        outputs = keras.layers.Rescaling(scale, name="temperature")(outputs)
    return keras.Model(inputs, outputs, name=f"{model.name}_calibrated")
