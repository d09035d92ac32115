"""Train bn-cnn on MNIST IDX files with plain Keras and report the official test accuracy.

Uses the plugin's spec (builder) and recipe (optimizer, learning rate, loss, batch size,
epochs, validation split) exactly as ``digitkit fit bn-cnn`` would, and digitkit's own
``read_idx`` / ``adapt_images`` so digits are shaped as digitkit shapes them.

Usage:
    python train_mnist.py --data /path/to/mnist-idx [--epochs N] [--seed 0] [--out bn-cnn.keras]

The data folder holds ``train*-images-idx3-ubyte[.gz]``, ``train*-labels-idx1-ubyte[.gz]``
and ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path


def _find(folder: Path, prefix: str, kind: str) -> Path:
    matches = sorted(folder.glob(f"{prefix}*-{kind}-idx*-ubyte*"))
    if not matches:
        sys.exit(f"error: no {prefix}*-{kind}-idx*-ubyte[.gz] file in {folder}")
    return matches[0]


def load_split(folder: Path, prefix: str):
    from digitkit.data.idx import read_idx

    images = read_idx(_find(folder, prefix, "images"))
    labels = read_idx(_find(folder, prefix, "labels")).astype("int64")
    return images, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="folder with the MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="save the trained model (.keras)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from digitkit.data.adapt import adapt_images, encode_labels
    from digitkit_bncnn.model import SPEC

    recipe = SPEC.recipe.replace(epochs=args.epochs)
    keras.utils.set_random_seed(args.seed)
    train_images, train_labels = load_split(args.data, "train")
    test_images, test_labels = load_split(args.data, "t10k")
    # Shuffle once so Keras' validation_split (the tail) is a random sample.
    order = np.random.default_rng(args.seed).permutation(len(train_images))
    x = adapt_images(train_images[order], SPEC.input)
    y = encode_labels(train_labels[order], recipe.label_encoding)
    x_test = adapt_images(test_images, SPEC.input)
    y_test = encode_labels(test_labels, recipe.label_encoding)

    from digitkit.training.compile import compile_for

    model = compile_for(SPEC, recipe)  # the recipe's optimizer, loss and an "accuracy" metric, as fit does
    print(f"train {len(x)} images ({recipe.validation_split:g} held out), test {len(x_test)}; "
          f"recipe: {recipe.describe()}", flush=True)
    started = time.monotonic()
    model.fit(x, y, batch_size=recipe.batch_size, epochs=recipe.epochs,
              validation_split=recipe.validation_split, verbose=2)
    seconds = time.monotonic() - started
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    validation = len(x) - math.floor(len(x) * (1.0 - recipe.validation_split))  # as Keras splits
    figures = {"model": SPEC.name, "epochs": recipe.epochs, "images": len(x),
               "train_images": len(x) - validation, "validation_images": validation,
               "test_images": len(x_test), "test_loss": round(float(loss), 4),
               "test_accuracy": round(float(accuracy), 4), "train_seconds": round(seconds, 1),
               "seed": args.seed}
    print(json.dumps(figures), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.out:
        from digitkit.modelfiles.keras_file import save_model

        save_model(model, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
