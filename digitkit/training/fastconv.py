"""Training-time convolutions as one matrix product (im2col), for CPUs.

On the 2-core development CPU TensorFlow's conv kernels (forward and both gradients) run at
32-45 GFLOP/s while its matmul reaches ~185 GFLOP/s. A small stride-1 "valid" convolution is
exactly ``patches @ kernel``, where ``patches`` stacks the kh*kw shifted views of the input
along the channel axis; its gradients are matrix products too, plus the adds that the
shifted slices' gradient needs. See docs/training.md ("Where the cnn's time goes").

Only the instance's ``convolution_op`` is swapped while training: the layer's weights, its
config and the saved ``.keras``/``.tflite`` files are those of a plain ``Conv2D``, and
:func:`restore` puts the original op back before anything is saved or exported.
"""

from __future__ import annotations

import types
from typing import Any

ATTRIBUTE = "convolution_op"


def _eligible(layer: Any) -> bool:
    import keras

    return (type(layer) is keras.layers.Conv2D and layer.data_format == "channels_last"
            and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
            and layer.padding == "valid" and layer.groups == 1)


def _im2col_convolution(self: Any, inputs: Any, kernel: Any) -> Any:
    import tensorflow as tf

    kh, kw, cin, cout = kernel.shape
    height, width = inputs.shape[1], inputs.shape[2]
    oh, ow = height - kh + 1, width - kw + 1
    views = [inputs[:, i:i + oh, j:j + ow, :] for i in range(kh) for j in range(kw)]
    patches = tf.reshape(tf.concat(views, axis=-1), [-1, kh * kw * cin])
    out = tf.matmul(patches, tf.reshape(kernel, [kh * kw * cin, cout]))
    return tf.reshape(out, [-1, oh, ow, cout])


def use_matmul_convolutions(model: Any) -> list[str]:
    """Swap eligible ``Conv2D`` layers' op for im2col; returns their names."""
    swapped = []
    for layer in model._flatten_layers(include_self=False):
        if _eligible(layer) and layer.built:
            setattr(layer, ATTRIBUTE, types.MethodType(_im2col_convolution, layer))
            swapped.append(layer.name)
    return swapped


def restore(model: Any) -> None:
    """Give every swapped layer its own convolution op back (before saving or exporting)."""
    for layer in model._flatten_layers(include_self=False):
        if ATTRIBUTE in vars(layer):
            delattr(layer, ATTRIBUTE)
