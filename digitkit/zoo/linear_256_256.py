"""784 -> Dense 256 relu -> Dense 256 relu -> Dense 10 linear (logits)."""

from __future__ import annotations

from digitkit.spec import InputSpec, ModelSpec, Recipe


def build_256_256_linear(name: str = "mlp_256_256"):
    """Build the 256-256-linear model.

    Reference: the two-hidden-layer MLP notebook that trains on logits with
    ``SparseCategoricalCrossentropy(from_logits=True)``.

    Args:
        name: Keras model name.

    Returns:
        An uncompiled ``keras.Model`` mapping a 784-vector to 10 logits.
    """
    import keras

    inputs = keras.Input(shape=(784,), name="pixels")
    x = keras.layers.Dense(256, activation="relu", name="hidden_1")(inputs)
    x = keras.layers.Dense(256, activation="relu", name="hidden_2")(x)
    outputs = keras.layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


SPEC = ModelSpec(
    name="256-256-linear",
    summary="Two hidden layers of 256 relu units, linear output (logits).",
    input=InputSpec(image_size=28, shape=(784,)),
    output="logits",
    params=269_322,
    recipe=Recipe(
        optimizer="adam",
        learning_rate=0.001,
        loss="sparse_categorical_crossentropy",
        from_logits=True,
        batch_size=32,
        epochs=40,
        validation_split=0.1,
    ),
    builder=build_256_256_linear,
    source="MLP notebook: 784-256-256-10, sparse categorical cross-entropy from logits",
    license="Apache-2.0",
)
