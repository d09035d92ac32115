"""400 inputs (the digit resized to 20x20) -> Dense 25 relu -> Dense 15 relu -> Dense 10 logits."""

from __future__ import annotations

from digitkit.spec import InputSpec, ModelSpec, Recipe


def build_25_15_10(name: str = "mlp_25_15_10"):
    """Build the 25-15-10 model.

    Reference: the Coursera "Machine Learning Specialization" (Andrew Ng) neural-network lab,
    which feeds 20x20 digits to a 25-15-10 network and trains on logits.

    Args:
        name: Keras model name.

    Returns:
        An uncompiled ``keras.Model`` mapping a 400-vector to 10 logits.
    """
    import keras

    inputs = keras.Input(shape=(400,), name="pixels_20x20")
    x = keras.layers.Dense(25, activation="relu", name="hidden_1")(inputs)
    x = keras.layers.Dense(15, activation="relu", name="hidden_2")(x)
    outputs = keras.layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


SPEC = ModelSpec(
    name="25-15-10",
    summary="A tiny 25-15-10 network on digits resized to 20x20 (logits).",
    input=InputSpec(image_size=20, shape=(400,)),
    output="logits",
    params=10_575,
    recipe=Recipe(
        optimizer="adam",
        learning_rate=0.001,
        loss="sparse_categorical_crossentropy",
        from_logits=True,
        batch_size=32,
        epochs=40,
        validation_split=0.1,
    ),
    builder=build_25_15_10,
    source="Machine Learning Specialization (Coursera), multiclass neural network lab",
    license="Apache-2.0",
)
