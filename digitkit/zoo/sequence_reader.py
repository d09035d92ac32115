"""A small CTC line reader: a convnet over a line of ink, its columns read by a BiGRU.

The sequence reader of ``digitkit read`` (:mod:`digitkit.reading.sequence`, which runs the
shipped LiteRT export; trained by scripts/train_sequence_reader.py; docs/read.md). Input
``(32, 320, 1)``: a line as :func:`digitkit.reading.sequence.line_input` makes it.
Three conv blocks pool it to 4 x 80; each of the 80 columns (4 px of the line) becomes a
frame, a bidirectional GRU reads the frames, and a dense layer scores 11 classes per
frame (digits 0-9, then CTC's blank, ``digitkit.reading.sequence.BLANK``). Keras is
imported inside the functions.
"""

from __future__ import annotations

CLASSES = 11
BLANK = 10


def build(height: int = 32, width: int = 320, filters: tuple[int, int, int] = (16, 32, 64), units: int = 64,
          unroll: bool = False):
    """The reader: ``(N, height, width, 1)`` ink -> ``(N, width // 4, 11)`` logits.

    ``unroll``: the GRU unrolled over its 80 frames (same weights), for a LiteRT export that
    keeps no variables (a GRU loop converts to a WHILE reading resource variables, which
    LiteRT cannot invoke).
    """
    import keras
    from keras import layers

    inputs = keras.Input((height, width, 1), name="line")
    x = inputs
    for i, (n, pool) in enumerate(zip(filters, ((2, 2), (2, 2), (2, 1)))):
        x = layers.Conv2D(n, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU()(x)
        if i == len(filters) - 1:
            x = layers.Conv2D(n, 3, padding="same", activation="relu", name=f"conv{i}b")(x)
        x = layers.MaxPooling2D(pool)(x)
    # (N, h, w, c) -> (N, w, h * c): one frame per column.
    x = layers.Permute((2, 1, 3))(x)
    x = layers.Reshape((width // 4, (height // 8) * filters[-1]))(x)
    x = layers.Dense(128, activation="relu", name="frame")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Bidirectional(layers.GRU(units, return_sequences=True, unroll=unroll), name="bigru")(x)
    outputs = layers.Dense(CLASSES, name="logits")(x)
    return keras.Model(inputs, outputs, name="sequence_reader")


def ctc_loss(y_true, y_pred):
    """CTC loss of logits ``y_pred`` against ``y_true``: ``(N, L)`` digits, padded with -1."""
    from keras import ops

    y_true = ops.cast(y_true, "int32")
    lengths = ops.sum(ops.cast(y_true >= 0, "int32"), axis=1)
    target = ops.maximum(y_true, 0)
    frames = ops.full((ops.shape(y_pred)[0],), ops.shape(y_pred)[1], dtype="int32")
    return ops.ctc_loss(target, y_pred, lengths, frames, mask_index=BLANK)
