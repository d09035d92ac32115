"""Where a training step of the cnn spends its time: forward, backward, optimizer, with
TensorFlow's default CPU kernels (Eigen) and with oneDNN's (what ``digitkit fit`` picks).

    python benchmarks/cnn_step_profile.py [--batch 128] [--calls 20] [--repeats 3]

TensorFlow reads ``TF_ENABLE_ONEDNN_OPTS`` at import, so each variant runs in a fresh
process, interleaved over repeats. Each figure is the median over repeats of the mean time
per call of a ``tf.function`` on one fixed batch: ``forward`` (model call),
``forward+backward`` (plus gradients), ``step`` (plus Adam's update).
backward = forward+backward - forward; optimizer = step - forward+backward.
See docs/training.md for measured figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

VARIANTS = {"eigen": "0", "onednn": "1"}  # TF_ENABLE_ONEDNN_OPTS
PARTS = ("forward", "forward+backward", "step")


def make(batch: int):
    import keras
    import numpy as np
    import tensorflow as tf

    from digitkit.zoo.cnn import build_cnn

    keras.utils.set_random_seed(0)
    model = build_cnn()
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


def worker(batch: int, calls: int) -> dict:
    functions = make(batch)
    return {part: per_call_ms(functions[part], calls) for part in PARTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.batch, args.calls)))
        return
    times: dict[tuple[str, str], list[float]] = {}
    for repeat in range(args.repeats):
        order = list(VARIANTS) if repeat % 2 == 0 else list(VARIANTS)[::-1]
        for variant in order:
            env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": VARIANTS[variant], "TF_CPP_MIN_LOG_LEVEL": "3"}
            proc = subprocess.run([sys.executable, __file__, "--worker", "--batch", str(args.batch),
                                   "--calls", str(args.calls)], env=env, capture_output=True, text=True)
            lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
            if proc.returncode != 0 or not lines:
                raise SystemExit(f"{variant} failed:\n{proc.stderr[-3000:]}")
            for part, ms in json.loads(lines[-1]).items():
                times.setdefault((variant, part), []).append(ms)
    print(f"cnn, batch {args.batch}, ms per call (median of {args.repeats}, interleaved fresh processes)")
    print(f"{'kernels':<10}{'forward':>10}{'backward':>10}{'optimizer':>11}{'step':>9}")
    steps = {}
    for variant in VARIANTS:
        f, fb, s = (statistics.median(times[(variant, p)]) for p in PARTS)
        steps[variant] = s
        print(f"{variant:<10}{f:>10.1f}{fb - f:>10.1f}{s - fb:>11.1f}{s:>9.1f}")
    print(f"oneDNN step speed-up: {steps['eigen'] / steps['onednn']:.2f}x")


if __name__ == "__main__":
    main()
