"""Is the input pipeline fast enough? Images/s of digitkit's tf.data pipeline vs. the cnn's
training step on the same batches, in one run.

    python benchmarks/data_pipeline.py [--dataset sample] [--batches 40] [--model cnn]

The pipeline figure covers adapting the digits (NumPy: scale, reshape, resize for 20x20
models, one-hot) plus one full pass of tf.data (shuffle, batch, prefetch). The step figure
is ``model.train_on_batch`` on batches already in memory, so it contains no input work.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def fit_pipeline(digits, spec):
    """The pipeline ``digitkit fit`` trains from (seeded order, in-memory gather)."""
    from digitkit.training.data import EpochData

    recipe = spec.recipe
    return EpochData(digits, spec.input, batch_size=recipe.batch_size, label_encoding=recipe.label_encoding,
                     seed=0, num_classes=spec.num_classes)


def measure_pipeline(digits, spec, repeats: int = 3) -> float:
    """Best images/s over ``repeats`` passes of adapt + tf.data iteration."""
    best = 0.0
    for epoch in range(repeats):
        start = time.perf_counter()
        seen = 0
        for x, _y in fit_pipeline(digits, spec).dataset(epoch):
            seen += int(x.shape[0])
        best = max(best, seen / (time.perf_counter() - start))
    return best


def measure_training_step(digits, spec, batches: int) -> tuple[float, int]:
    """Images/s of ``train_on_batch`` on the first ``batches`` batches of the same pipeline."""
    from digitkit.training.compile import compile_for

    model = compile_for(spec)
    data = [(x.numpy(), y.numpy()) for x, y in fit_pipeline(digits, spec).dataset(0).take(batches + 1)]
    model.train_on_batch(*data[0])  # compile the step outside the timing
    start = time.perf_counter()
    seen = 0
    for x, y in data[1:]:
        model.train_on_batch(x, y)
        seen += len(x)
    return seen / (time.perf_counter() - start), len(data) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="sample", help="dataset name or folder (default: the bundled sample)")
    parser.add_argument("--model", default="cnn", help="model whose input and training step to use")
    parser.add_argument("--batches", type=int, default=40, help="training steps to time")
    args = parser.parse_args()

    from digitkit.plugins import registry
    from digitkit.data import load_digits

    digits = load_digits(args.dataset, "train")
    spec = registry.get_spec(args.model)
    pipeline = measure_pipeline(digits, spec)
    step, steps = measure_training_step(digits, spec, args.batches)
    print(f"dataset {digits.dataset} ({len(digits):,} train digits, {digits.source}); model {spec.name}, "
          f"batch {spec.recipe.batch_size}")
    print(f"pipeline (adapt + tf.data pass): {pipeline:12,.0f} images/s")
    print(f"training step ({steps} steps):    {step:12,.0f} images/s")
    print(f"pipeline / step: {pipeline / step:.1f}x")


if __name__ == "__main__":
    main()
