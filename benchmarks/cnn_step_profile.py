"""Where a training step of the cnn spends its time: forward, backward, optimizer, with
TensorFlow's conv kernels and with digitkit's training-time im2col convolutions.

    python benchmarks/cnn_step_profile.py [--batch 128] [--calls 20] [--repeats 3]

Each figure is the median over repeats (interleaved) of the mean time per call of a
``tf.function`` on one fixed batch: ``forward`` (model call), ``forward+backward`` (plus
gradients), ``step`` (plus Adam's update). backward = forward+backward - forward;
optimizer = step - forward+backward. See docs/training.md for measured figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def make(matmul: bool, batch: int):
    import keras
    import numpy as np
    import tensorflow as tf

    from digitkit.training import fastconv
    from digitkit.zoo.cnn import build_cnn

    keras.utils.set_random_seed(0)
    model = build_cnn()
    if matmul:
        fastconv.use_matmul_convolutions(model)
    x = tf.constant(np.random.default_rng(0).random((batch, 28, 28, 1), dtype=np.float32))
    y = tf.constant(np.eye(10, dtype=np.float32)[np.arange(batch) % 10])
    optimizer, loss = keras.optimizers.Adam(1e-3), keras.losses.CategoricalCrossentropy()
    optimizer.build(model.trainable_variables)

    @tf.function
    def forward():
        return model(x, training=True)

    @tf.function
    def forward_backward():
        with tf.GradientTape() as tape:
            value = loss(y, model(x, training=True))
        return tape.gradient(value, model.trainable_variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss(y, model(x, training=True))
        optimizer.apply(tape.gradient(value, model.trainable_variables), model.trainable_variables)
        return value

    return {"forward": forward, "forward+backward": forward_backward, "step": step}


def per_call_ms(function, calls: int) -> float:
    import tensorflow as tf

    function(), function()  # trace and warm up
    started = time.perf_counter()
    for _ in range(calls):
        result = function()
    tf.nest.map_structure(lambda t: t.numpy(), result)
    return 1000 * (time.perf_counter() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    variants = {"tf conv": make(False, args.batch), "im2col": make(True, args.batch)}
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeats):
        for variant, functions in variants.items():
            for part, function in functions.items():
                times.setdefault((variant, part), []).append(per_call_ms(function, args.calls))
    print(f"cnn, batch {args.batch}, ms per call (median of {args.repeats})")
    print(f"{'variant':<10}{'forward':>10}{'backward':>10}{'optimizer':>11}{'step':>9}")
    for variant in variants:
        f, fb, s = (statistics.median(times[(variant, p)]) for p in ("forward", "forward+backward", "step"))
        print(f"{variant:<10}{f:>10.1f}{fb - f:>10.1f}{s - fb:>11.1f}{s:>9.1f}")


if __name__ == "__main__":
    main()
