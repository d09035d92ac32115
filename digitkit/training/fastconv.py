"""Training-time convolutions as one matrix product (im2col), for CPUs.

On the 2-core development CPU TensorFlow's conv kernels (forward and both gradients) run at
32-45 GFLOP/s while its matmul reaches ~185 GFLOP/s. A small stride-1 "valid" convolution is
exactly ``patches @ kernel``, where ``patches`` stacks the kh*kw shifted views of the input
along the channel axis; the kernel's gradient is a matrix product too. See docs/training.md
("Where the cnn's time goes").

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
    """``conv2d(inputs, kernel)`` (valid, stride 1) as ``patches @ kernel``.

    The gradient is written by hand: the kernel's is one more matrix product with the
    patches kept from the forward pass; the input's is TensorFlow's own
    ``Conv2DBackpropInput`` (autodiff through the nine shifted slices made the backward
    pass 2-3x slower than TensorFlow's conv, measured).
    """
    import tensorflow as tf

    kh, kw, cin, cout = kernel.shape
    oh, ow = inputs.shape[1] - kh + 1, inputs.shape[2] - kw + 1
    depth = kh * kw * cin

    @tf.custom_gradient
    def convolve(x: Any, k: Any) -> Any:
        views = [x[:, i:i + oh, j:j + ow, :] for i in range(kh) for j in range(kw)]
        patches = tf.reshape(tf.concat(views, axis=-1), [-1, depth])
        out = tf.reshape(tf.matmul(patches, tf.reshape(k, [depth, cout])), [-1, oh, ow, cout])

        def gradient(dy: Any) -> Any:
            dk = tf.reshape(tf.matmul(patches, tf.reshape(dy, [-1, cout]), transpose_a=True), [kh, kw, cin, cout])
            dx = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=k, out_backprop=dy,
                                                strides=[1, 1, 1, 1], padding="VALID")
            return dx, dk

        return out, gradient

    return convolve(inputs, tf.cast(kernel, inputs.dtype))


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
