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

    Logits are divided by T (a ``Rescaling`` layer, loadable in safe mode). A model whose
    last layer ends in softmax gets that softmax moved after the ``Rescaling``. Other models
    that output probabilities get ``softmax(log p / T)`` through a ``Lambda`` layer: fine for
    LiteRT, ONNX and SavedModel, converted here, but refused by Keras' safe mode in a
    ``.keras`` file, so ``keras_file=True`` returns ``None`` for them.
    """
    if calibration.identity:
        return model
    import keras

    scale = 1.0 / calibration.temperature
    if kind == "probabilities":
        rebuilt = _softmax_opened(model, scale)
        if rebuilt is not None:
            return rebuilt
        if keras_file:
            return None
    inputs = keras.Input(shape=model.input_shape[1:], name="digit")
    outputs = model(inputs)
    if kind == "probabilities":
        outputs = keras.layers.Lambda(
            lambda p: keras.ops.softmax(keras.ops.log(keras.ops.maximum(p, 1e-12)) * scale),
            name="temperature")(outputs)
    else:
        outputs = keras.layers.Rescaling(scale, name="temperature")(outputs)
    return keras.Model(inputs, outputs, name=f"{model.name}_calibrated")


def _softmax_opened(model: Any, scale: float) -> Any | None:
    """For a model whose last layer ends in softmax: the same layers with that softmax moved
    after a ``Rescaling`` of the logits (plain layers, so safe mode loads it), or ``None``."""
    import keras

    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    if getattr(activation, "__name__", "") != "softmax":
        return None
    try:
        config = {**last.get_config(), "activation": "linear", "name": f"{last.name}_logits"}
        logits_layer = type(last).from_config(config)
        inputs = keras.Input(shape=model.input_shape[1:], name="digit")
        features = keras.Model(model.inputs, last.input)(inputs)
        logits = logits_layer(features)
        logits_layer.set_weights(last.get_weights())
    except Exception:  # an unusual graph: fall back to wrapping the whole model
        return None
    scaled = keras.layers.Rescaling(scale, name="temperature")(logits)
    outputs = keras.layers.Activation("softmax", name="calibrated_softmax")(scaled)
    return keras.Model(inputs, outputs, name=f"{model.name}_calibrated")
