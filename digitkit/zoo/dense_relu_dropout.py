"""Flatten 28x28 -> Dense 128 relu -> Dropout 0.2 -> Dense 10 softmax."""

from __future__ import annotations

from digitkit.spec import InputSpec, ModelSpec, Recipe


def build_dense_relu_dropout(dropout: float = 0.2, name: str = "dense_relu_dropout"):
    """Build the dense-relu-dropout model.

    Reference: the TensorFlow "quickstart for beginners" tutorial network.

    Args:
        dropout: dropout rate after the hidden layer, in [0, 1).
        name: Keras model name.

    Returns:
        An uncompiled ``keras.Model`` mapping a 28x28 digit to 10 probabilities.
    """
    if not 0 <= dropout < 1:
        raise ValueError(f"expected 0 <= dropout < 1. Received: dropout={dropout}")
    import keras

    inputs = keras.Input(shape=(28, 28), name="digit")
    x = keras.layers.Flatten(name="flatten")(inputs)
    x = keras.layers.Dense(128, activation="relu", name="hidden")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


SPEC = ModelSpec(
    name="dense-relu-dropout",
    summary="The TensorFlow quickstart: 128 relu units with dropout 0.2.",
    input=InputSpec(image_size=28, shape=(28, 28)),
    output="probabilities",
    params=101_770,
    recipe=Recipe(
        optimizer="adam",
        learning_rate=0.001,
        loss="sparse_categorical_crossentropy",
        batch_size=32,
        epochs=10,
        validation_split=0.1,
    ),
    builder=build_dense_relu_dropout,
    source="TensorFlow 2 quickstart for beginners (tensorflow.org/tutorials/quickstart/beginner)",
    license="Apache-2.0",
)
