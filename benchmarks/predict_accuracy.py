"""Top-1 on photographed digits: naive loading vs digitkit's MNIST-style preprocessing.

    python benchmarks/predict_accuracy.py [--data IDX_DIR] [--epochs 4] [--count 1000]

Trains the zoo's ``cnn`` with plain Keras on the training split of ``--data`` (an MNIST IDX
folder; default: the bundled 6,000-digit sample), makes ``--count`` "real-world" test images
with scripts/make_realworld_digits.py (dark ink on paper, off-centre, coloured pens, JPEG,
rotation, grain, uneven light) from the test split of the bundled sample, and prints top-1:

- naive: ``Image.convert("L")``, resize to 28x28, divide by 255 (what most tutorials do);
- digitkit: :func:`digitkit.images.load_digit` (invert, flatten light, crop, 20 px, centre).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def train_cnn(data: str | None, epochs: int, seed: int):
    import keras

    from digitkit import registry
    from digitkit.data import load_digits
    from digitkit.data.adapt import adapt_images

    spec = registry.get_spec("cnn")
    digits = load_digits(data or "sample", split="train")
    keras.utils.set_random_seed(seed)
    model = spec.build()
    model.compile(optimizer=keras.optimizers.Adam(spec.recipe.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(adapt_images(digits.images, spec.input), digits.labels, batch_size=spec.recipe.batch_size,
              epochs=epochs, verbose=0)
    print(f"trained cnn on {len(digits):,} digits of {digits.source}, {epochs} epochs, "
          f"{time.perf_counter() - started:.0f} s")
    return model, spec


def naive(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("L").resize((28, 28)), np.float32) / 255.0


def top1(model, images: np.ndarray, labels: np.ndarray) -> float:
    predicted = model.predict(images[..., None], batch_size=256, verbose=0).argmax(axis=1)
    return float((predicted == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="MNIST IDX folder to train on (default: the bundled sample)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--count", type=int, default=1000, help="real-world test images to make")
    parser.add_argument("--images", type=Path, help="use this folder made by make_realworld_digits.py")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import make_realworld_digits

    from digitkit.data import load_digits
    from digitkit.errors import InputError
    from digitkit.images import load_digit

    folder = args.images or Path(tempfile.mkdtemp(prefix="digitkit-realworld-"))
    if not (folder / "labels.csv").exists():
        make_realworld_digits.make(folder, args.count, args.seed)
    with open(folder / "labels.csv") as handle:
        rows = [(folder / r["file"], int(r["label"])) for r in csv.DictReader(handle)][: args.count]
    model, spec = train_cnn(args.data, args.epochs, args.seed)
    labels = np.array([label for _, label in rows])
    naive_images = np.stack([naive(path) for path, _ in rows])
    started = time.perf_counter()
    ours, refused = [], 0
    for path, _ in rows:
        try:
            ours.append(load_digit(path))
        except InputError:
            refused += 1
            ours.append(np.zeros((28, 28), np.float32))  # counted as wrong
    per_image = (time.perf_counter() - started) / len(rows) * 1000
    clean = load_digits("sample", split="test")
    print(f"clean MNIST test digits (bundled sample, {len(clean):,}):  "
          f"{top1(model, clean.images / 255.0, clean.labels):.2%}")
    print(f"real-world photos ({len(rows):,}, {folder}):")
    print(f"  naive (convert L, resize 28x28, /255):  {top1(model, naive_images, labels):.2%}")
    print(f"  digitkit preprocessing:               {top1(model, np.stack(ours), labels):.2%}"
          f"  ({refused} refused, {per_image:.1f} ms per image to load)")


if __name__ == "__main__":
    main()
