"""Test accuracy of each zoo model trained with its own recipe through ``digitkit.fit``.

    python benchmarks/accuracy.py --data /path/to/mnist-idx            # all five, full recipes
    python benchmarks/accuracy.py --data DIR --models dense-sigmoid cnn

Trains on the training split of ``--data`` (a folder of MNIST IDX files; default: the bundled
sample), tests on its test split, and prints one row per model next to the accuracy the
model must reach (docs/training.md). Exits 1 when a model falls short.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile

TARGETS = {"dense-sigmoid": 0.940, "dense-relu-dropout": 0.966, "256-256-linear": 0.970, "25-15-10": 0.950,
           "cnn": 0.985}


def main() -> None:
    import digitkit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder of MNIST IDX files (default: the bundled sample)")
    parser.add_argument("--models", nargs="+", default=list(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="override the recipes' epochs (quick checks only)")
    args = parser.parse_args()
    print(f"data: {args.data or 'bundled sample'}, seed {args.seed}"
          + (f", epochs {args.epochs} (recipes overridden)" if args.epochs else ", recipes as declared"))
    print(f"{'model':<20}{'epochs':>7}{'train':>8}{'test acc':>10}{'target':>8}{'s/epoch':>9}  verdict")
    short = []
    for name in args.models:
        with tempfile.TemporaryDirectory() as out:
            result = digitkit.fit(name, dataset=args.data, seed=args.seed, epochs=args.epochs, out=out)
            train_size = result.run.manifest["dataset"]["train_size"]
        accuracy, target = result.test_metrics["accuracy"], TARGETS.get(name, 0.0)
        verdict = "ok" if accuracy >= target else "BELOW TARGET"
        if accuracy < target:
            short.append(name)
        per_epoch = statistics.median(result.history["epoch_seconds"])
        print(f"{name:<20}{result.epochs_completed:>7}{train_size:>8}{accuracy:>10.4f}{target:>8.3f}"
              f"{per_epoch:>9.2f}  {verdict}", flush=True)
    sys.exit(1 if short else 0)


if __name__ == "__main__":
    main()
