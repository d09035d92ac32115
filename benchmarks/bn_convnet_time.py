"""Where a batch-normalised convnet's training time goes on this CPU: forward, backward, optimizer.

For each model and batch size, times compiled (``tf.function``) steps on random digits:
``forward`` (training-mode call), ``forward+backward`` (gradients), ``step`` (gradients and
Adam update); prints ms per batch, seconds per 24k-digit epoch and the achieved GFLOP/s
(3x the forward multiply-adds x 2 per sample for a training step). Medians of interleaved
repeats; the machine is shared, so read ratios rather than absolute figures.

    python benchmarks/bn_convnet_time.py [--models bn-cnn cnn-best] [--batch-sizes 128 256] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

EPOCH_DIGITS = 24_345


def forward_macs(model) -> int:
    """Multiply-adds of one forward pass (conv and dense layers only)."""
    total = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            _, h, w, c_out = layer.output.shape
            k_h, k_w = layer.kernel_size
            total += h * w * c_out * k_h * k_w * layer.input.shape[-1]
        elif kind == "Dense":
            total += layer.input.shape[-1] * layer.units
    return int(total)


def build(name: str, augment: bool):
    from digitkit.plugins import registry

    spec = registry.get_spec(name)
    try:
        return spec.build(augment=augment)
    except TypeError:
        return spec.build()


def steps_for(model, batch: int):
    import keras
    import tensorflow as tf

    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)
    x = tf.random.uniform((batch, 28, 28, 1))
    y = tf.random.uniform((batch,), maxval=10, dtype=tf.int32)

    @tf.function
    def forward():
        return model(x, training=True)

    @tf.function
    def backward():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return {"forward": forward, "forward+backward": backward, "step": step}


def time_call(fn, calls: int = 4) -> float:
    fn()  # trace and warm up
    began = time.perf_counter()
    for _ in range(calls):
        out = fn()
    _ = [t.numpy() for t in (out if isinstance(out, (list, tuple)) else [out])][:1]
    return (time.perf_counter() - began) / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["bn-cnn", "cnn-best"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[128, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-augment", action="store_true", help="time the models without augmentation layers")
    args = parser.parse_args(argv)

    from digitkit._internal.quiet import silence_tensorflow_startup

    silence_tensorflow_startup()
    import keras

    keras.utils.set_random_seed(0)
    cases = []
    for name in args.models:
        for batch in args.batch_sizes:
            model = build(name, augment=not args.no_augment)
            cases.append((name, batch, forward_macs(model), steps_for(model, batch)))
    times: dict[tuple[str, int, str], list[float]] = {}
    for _ in range(args.repeats):  # interleaved so load changes hit every case alike
        for name, batch, _macs, fns in cases:
            for part, fn in fns.items():
                times.setdefault((name, batch, part), []).append(time_call(fn))
    print(f"{'model':<10} {'batch':>5} {'MMAC/digit':>10} {'part':<17} {'ms/batch':>9} {'s/epoch':>8} {'GFLOP/s':>8}")
    for name, batch, macs, fns in cases:
        for part in fns:
            seconds = statistics.median(times[(name, batch, part)])
            flops = 2 * macs * batch * (1 if part == "forward" else 3)
            print(f"{name:<10} {batch:>5} {macs / 1e6:>10.2f} {part:<17} {seconds * 1e3:>9.1f} "
                  f"{seconds * EPOCH_DIGITS / batch:>8.1f} {flops / seconds / 1e9:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
