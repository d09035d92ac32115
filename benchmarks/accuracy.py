"""Test accuracy of each zoo model: trained now with its recipe, or as shipped pretrained.

    python benchmarks/accuracy.py --data /path/to/mnist-idx                 # train all, full recipes
    python benchmarks/accuracy.py --data DIR --models dense-sigmoid cnn
    python benchmarks/accuracy.py --data DIR --pretrained                   # the shipped weights

Training mode trains on the training split of ``--data`` (a folder of MNIST IDX files;
default: the bundled sample) through ``digitkit.fit``, tests on its test split, and prints
one row per model next to the accuracy the model must reach (docs/training.md).

``--pretrained`` trains nothing: it re-measures each shipped ``.tflite`` (LiteRT) on the
test split of ``--data`` next to its model card's figure, then makes the real-world set of
``scripts/make_realworld_digits.py`` (``--count`` digits of each of its kinds, from the test
split of ``--data``) and prints every shipped model's top-1 per kind after digitkit's
preprocessing (``digitkit.intake.read_digit``), each model's row followed by its ceiling
(``source``): its top-1 on the clean test digits the kind's files were made from (for the
writing styles made from MNIST, the digit before the stroke was added). The procedurally
drawn writing styles have no source digit: their ceiling reads ``drawn``.

Exits 1 when a model falls short of its target.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"dense-sigmoid": 0.940, "dense-relu-dropout": 0.966, "256-256-linear": 0.970, "25-15-10": 0.950,
           "cnn": 0.985, "cnn-best": 0.995}


def train_mode(args: argparse.Namespace) -> list[str]:
    import digitkit

    print(f"data: {args.data or 'bundled sample'}, seed {args.seed}"
          + (f", epochs {args.epochs} (recipes overridden)" if args.epochs else ", recipes as declared"))
    print(f"{'model':<20}{'epochs':>7}{'train':>8}{'test acc':>10}{'target':>8}{'s/epoch':>9}  verdict")
    short = []
    for name in args.models:
        with tempfile.TemporaryDirectory() as out:
            result = digitkit.fit(name, dataset=args.data, seed=args.seed, epochs=args.epochs, out=out)
            train_size = result.run.manifest["dataset"]["train_size"]
        accuracy, target = result.test_metrics["accuracy"], TARGETS.get(name, 0.0)
        if accuracy < target:
            short.append(name)
        per_epoch = statistics.median(result.history["epoch_seconds"])
        print(f"{name:<20}{result.epochs_completed:>7}{train_size:>8}{accuracy:>10.4f}{target:>8.3f}"
              f"{per_epoch:>9.2f}  {'ok' if accuracy >= target else 'BELOW TARGET'}", flush=True)
    return short


def shipped_outputs(name: str, digits: np.ndarray) -> np.ndarray:
    """Outputs of ``name``'s shipped .tflite for (N, 28, 28) digits in [0, 1]."""
    from digitkit import pretrained
    from digitkit.plugins import registry
    from digitkit.data.adapt import adapt_images
    from digitkit.inference.litert_backend import LiteRTModel

    return LiteRTModel(pretrained.path(name, "tflite")).predict(
        adapt_images(digits, registry.get_spec(name).input))


def load_realworld(folder: Path) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Digits (preprocessed by digitkit), labels, categories and source test digits (-1: none)
    of a made real-world set."""
    try:
        from digitkit.intake import read_digit
    except ImportError:  # before the intake package landed
        from digitkit.intake import read_digit
    with open(folder / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    digits = np.stack([np.asarray(read_digit(folder / row["file"]), np.float32).reshape(28, 28) for row in rows])
    labels = np.array([int(row["label"]) for row in rows])
    categories = [row.get("kind") or row.get("category") or "photo" for row in rows]
    sources = np.array([int(row["source"]) if row.get("source") else -1 for row in rows])
    return digits, labels, categories, sources


def make_realworld(out: Path, count: int, seed: int, data: str | None) -> None:
    """``count`` images of every kind the script makes (older versions: photos only)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_realworld_digits

    kinds = getattr(make_realworld_digits, "KINDS", None)
    if kinds:
        make_realworld_digits.make(out, count=count, seed=seed, data=data, kinds=tuple(kinds))
    else:
        make_realworld_digits.make(out, count=count, seed=seed, data=data)


def pretrained_mode(args: argparse.Namespace) -> list[str]:
    from digitkit import pretrained
    from digitkit.data import load_digits

    names = [n for n in args.models if n in pretrained.names()]
    test = load_digits(args.data or "sample", "test")
    x = test.images.astype(np.float32) / 255.0
    print(f"shipped weights (.tflite, LiteRT) on {len(test):,} test digits of {args.data or 'the bundled sample'}")
    print(f"{'model':<20}{'test acc':>10}{'card':>8}{'target':>8}  verdict")
    short = []
    for name in names:
        accuracy = float((shipped_outputs(name, x).argmax(axis=1) == test.labels).mean())
        card = pretrained.card(name)["test_accuracy"]
        target = TARGETS.get(name, 0.0)
        if accuracy < target:
            short.append(name)
        print(f"{name:<20}{accuracy:>10.4f}{card:>8.4f}{target:>8.3f}  {'ok' if accuracy >= target else 'BELOW TARGET'}",
              flush=True)
    with tempfile.TemporaryDirectory() as folder:
        make_realworld(Path(folder), args.count, args.seed, args.data)
        digits, labels, categories, sources = load_realworld(Path(folder))
    groups: dict[str, list[int]] = defaultdict(list)
    for i, category in enumerate(categories):
        groups[category].append(i)
    order = sorted(groups)
    print(f"\nreal-world top-1 ({len(labels):,} images from scripts/make_realworld_digits.py, seed {args.seed}, "
          "digitkit preprocessing)")
    print(f"{'model':<20}" + "".join(f"{c[:14]:>15}" for c in order) + f"{'all':>8}")
    sourced = sources >= 0
    clean = test.images[np.where(sourced, sources, 0)].astype(np.float32) / 255.0
    for name in names:
        hits = shipped_outputs(name, digits).argmax(axis=1) == labels
        print(f"{name:<20}" + "".join(f"{hits[groups[c]].mean():>15.3f}" for c in order) + f"{hits.mean():>8.3f}",
              flush=True)
        ceiling = shipped_outputs(name, clean).argmax(axis=1) == labels
        cells = [f"{ceiling[groups[c]].mean():>15.3f}" if sourced[groups[c]].all() else f"{'drawn':>15}" for c in order]
        print(f"{'  source':<20}" + "".join(cells) + f"{ceiling[sourced].mean():>8.3f}", flush=True)
    print("source: top-1 on the clean test digits each kind was made from (the ceiling); drawn: a procedurally "
          "drawn writing style, no source digit ('all' over the kinds that have one)")
    return short


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder of MNIST IDX files (default: the bundled sample)")
    parser.add_argument("--models", nargs="+", default=list(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="override the recipes' epochs (quick checks only)")
    parser.add_argument("--pretrained", action="store_true", help="measure the shipped weights; train nothing")
    parser.add_argument("--count", type=int, default=400, help="real-world images of each kind (--pretrained)")
    args = parser.parse_args()
    from digitkit._internal.quiet import silence_tensorflow_startup

    silence_tensorflow_startup()
    short = pretrained_mode(args) if args.pretrained else train_mode(args)
    sys.exit(1 if short else 0)


if __name__ == "__main__":
    main()
