"""Training-time speed settings: im2col convolutions equal Keras' own and leave no trace."""

from __future__ import annotations

import numpy as np


def test_matmul_convolutions_match_keras_and_leave_no_trace(tmp_path):
    import keras
    import tensorflow as tf

    from digitkit.modelfile import load_model, save_model
    from digitkit.training import fastconv
    from digitkit.zoo.cnn import build_cnn

    keras.utils.set_random_seed(0)
    model = build_cnn()
    x = tf.constant(np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32))

    def outputs_and_grads():
        with tf.GradientTape() as tape:
            y = model(x, training=False)
            loss = tf.reduce_sum(y * tf.range(10, dtype=tf.float32))
        return y.numpy(), [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]

    expected, expected_grads = outputs_and_grads()
    assert fastconv.use_matmul_convolutions(model) == ["conv_1", "conv_2"]
    got, got_grads = outputs_and_grads()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    for a, b in zip(got_grads, expected_grads):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    fastconv.restore(model)
    assert not any("convolution_op" in vars(layer) for layer in model.layers)
    save_model(model, tmp_path / "m.keras")
    np.testing.assert_allclose(load_model(tmp_path / "m.keras")(x).numpy(), expected, rtol=1e-5, atol=1e-7)
