"""Top-1 per kind of real-world digit: naive loading vs digitkit's intake.

    python benchmarks/predict_accuracy.py --model RUN_OR_MODEL [--images DIR] [--count 1000]
                                          [--data MNIST_IDX_DIR] [--seed 0] [--kinds K,...] [--tta]

Makes ``--count`` digits of each kind with scripts/make_realworld_digits.py from held-out
test digits of ``--data`` (photos and scans on paper, transparent-canvas drawings in any pen
colour, box-stretched binary 16x16 and 32x32 scans, 8x8 upscales, and phone photos: a small
thin or thick pen digit in a 1,280-2,400 px frame with a cast shadow, a table band, coloured
paper, tilt, JPEG and EXIF orientation; making the phone kind needs SciPy and ~0.3 s a
photo; and the writing styles rare in MNIST: a barred 7, a 1 with flag and foot, an open 4,
a straight-tailed 9, a plain-stroke 1), or reuses a folder it made (``--images``), and
prints the model's top-1 on the test split of ``--data`` (fed as 28x28 arrays), then top-1
for each kind with:

- naive: ``Image.convert("L")``, resize to 28x28, divide by 255 (what most tutorials do);
- digitkit: :func:`digitkit.intake.read_digit`, the intake ``predict`` uses;
- source: the clean MNIST test digits the kind's files were made from, fed straight as
  28x28 arrays: the ceiling no preprocessing can beat with this model (the gap to it is the
  honest measure). It needs the folder's ``source`` column (sets made before it existed show
  ``-``) and the same ``--data`` the set was made from (checked against the labels). The
  writing styles made from MNIST digits have the digit before the stroke was added as their
  source; the drawn styles have none (``drawn``).

With ``--tta`` each figure is also given with test-time augmentation (``predict --tta``),
in the column after it.

The model is any reference ``digitkit predict --model`` takes, e.g. ``cnn`` for your latest
cnn run (``digitkit fit cnn --dataset /path/to/mnist``). Also prints the load+preprocess time
per image of each kind (a median over its files).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def load_model(reference: str, tta: bool = False):
    """``x (N, 28, 28) -> probabilities`` for a model reference, whichever API this tree has."""
    import digitkit

    if tta:
        return digitkit.load(reference, tta=True).predict_proba
    if hasattr(digitkit, "load"):
        predictor = digitkit.load(reference)
        return predictor.predict_proba
    from digitkit.data.adapt import adapt_images
    from digitkit.predict import load_backend, probabilities_of

    engine = load_backend(reference)
    return lambda x: probabilities_of(engine.run(adapt_images(x, engine.input_spec)), engine.output)


def naive(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("L").resize((28, 28)), np.float32) / 255.0


def load_all(rows, loader) -> tuple[np.ndarray, int, float]:
    """Digits (zeros where refused: counted wrong), refusals, median milliseconds per file."""
    from digitkit.errors import InputError

    images, refused, times = [], 0, []
    for path, _, _ in rows:
        started = time.perf_counter()
        try:
            images.append(np.asarray(loader(path), np.float32))
        except InputError:
            refused += 1
            images.append(np.zeros((28, 28), np.float32))
        times.append(time.perf_counter() - started)
    return np.stack(images), refused, float(np.median(times) * 1000)


def source_digits(images: np.ndarray, labels: np.ndarray, rows) -> np.ndarray | None:
    """The test digits (N, 28, 28) in [0, 1] the rows were made from, or None when the rows do not
    say (no ``source`` column, or a drawn kind) or ``images`` are not what they were made from
    (labels differ)."""
    if not rows or any(source < 0 for _, _, source in rows):
        return None
    index = np.array([source for _, _, source in rows])
    if index.max() >= len(images) or (labels[index] != np.array([label for _, label, _ in rows])).any():
        return None
    return images[index].astype(np.float32) / 255.0


def top1(predict_proba, images: np.ndarray, labels: np.ndarray) -> float:
    predicted = np.concatenate([predict_proba(images[i:i + 256]) for i in range(0, len(images), 256)]).argmax(axis=1)
    return float((predicted == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn", help="model reference, as `digitkit predict --model` takes")
    parser.add_argument("--data", help="MNIST IDX folder to take test digits from (default: the bundled sample)")
    parser.add_argument("--count", type=int, default=1000, help="digits of each kind to make")
    parser.add_argument("--images", type=Path, help="use (or fill) this folder made by make_realworld_digits.py")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", help="comma-separated subset of the kinds to score")
    parser.add_argument("--tta", action="store_true", help="also score with test-time augmentation (predict --tta)")
    args = parser.parse_args()

    import make_realworld_digits

    from digitkit.intake import read_digit as load_digit

    folder = args.images or Path(tempfile.mkdtemp(prefix="digitkit-realworld-"))
    if not (folder / "labels.csv").exists():  # only the kinds asked for: the phone photos take minutes
        make_realworld_digits.make(folder, args.count, args.seed, args.data,
                                   tuple(args.kinds.split(",")) if args.kinds else make_realworld_digits.KINDS)
    by_kind = defaultdict(list)
    with open(folder / "labels.csv") as handle:
        for row in csv.DictReader(handle):
            source = int(row["source"]) if row.get("source") else -1
            by_kind[row.get("kind") or "photo"].append((folder / row["file"], int(row["label"]), source))
    wanted = args.kinds.split(",") if args.kinds else list(by_kind)
    images, labels = make_realworld_digits.load_source(args.data)
    models = {"": load_model(args.model)}
    if args.tta:
        models["+tta"] = load_model(args.model, tta=True)
    print(f"model {args.model}; {folder}")
    test = "  ".join(f"{top1(m, images.astype(np.float32) / 255.0, labels):.2%}{' ' + k if k else ''}"
                     for k, m in models.items())
    print(f"test split of {args.data or 'the bundled sample'} ({len(labels):,} digits, fed as 28x28): {test}")
    columns = [f"digitkit{k}" for k in models] + [f"source{k}" for k in models]
    print(f"{'kind':<14} {'count':>6} {'naive':>8} " + " ".join(f"{c:>13}" for c in columns)
          + f" {'refused':>8} {'ms/image':>9}")
    drawn = missing = False
    for kind in wanted:
        rows = by_kind[kind][: args.count]
        truth = np.array([label for _, label, _ in rows])
        plain, _, _ = load_all(rows, naive)
        ours, refused, ms = load_all(rows, load_digit)
        sources = source_digits(images, labels, rows)
        cells = [f"{top1(m, ours, truth):.2%}" for m in models.values()]
        if sources is not None:
            cells += [f"{top1(m, sources, truth):.2%}" for m in models.values()]
        else:
            is_drawn = all(source < 0 for _, _, source in rows) and kind in make_realworld_digits.writing_styles.DRAWN
            drawn, missing = drawn or is_drawn, missing or not is_drawn
            cells += ["drawn" if is_drawn else "-"] * len(models)
        print(f"{kind:<14} {len(rows):>6} {top1(models[''], plain, truth):>8.2%} " + " ".join(f"{c:>13}" for c in cells)
              + f" {refused:>8} {ms:>9.2f}", flush=True)
    if drawn:
        print("source: drawn (a procedurally drawn writing style: no MNIST digit is its source)")
    if missing:
        print("source: - (the set has no source column, or --data is not the folder it was made from)")


if __name__ == "__main__":
    main()
