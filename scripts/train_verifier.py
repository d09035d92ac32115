"""Train the reading verifier (digitkit/reading/verifier.npz) on MNIST *training* digits.

    python scripts/train_verifier.py --data MNIST_IDX_DIR [--numbers 6000] [--epochs 8] [--seed 0]

Numbers of 2-6 training digits are drawn as scripts/make_numbers.py draws them (separated,
touching, broken, slanted, uneven, ruled, boxed), planned by digitkit's reader with every
piece that may hold two digits cut, and each candidate digit is labelled 1 when its box
matches a true digit's box (IoU >= 0.7), else 0. A small MLP (image + shape -> 128 -> 1) is
trained with Keras and saved as plain arrays for numpy inference. Test digits are never
used, so the read benchmarks stay held out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_numbers  # noqa: E402

CONDITIONS = ("separated", "touching", "touching", "broken", "slanted", "uneven", "ruled", "boxed")


def iou(a, b) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def examples(images: np.ndarray, count: int, seed: int, conditions: tuple[str, ...] = CONDITIONS,
             joined: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates and labels; with ``joined``, only those of lines where the writing runs
    together (``Line.joined``), for the verifier of such lines."""
    from digitkit.errors import InputError
    from digitkit.intake import to_grey
    from digitkit.reading.number import plan
    from digitkit.reading.paths import geometry

    rng = np.random.default_rng(seed)
    pictures, shapes, labels = [], [], []
    for i in range(count):
        condition = conditions[i % len(conditions)]
        n = int(rng.integers(2, 7))
        chosen = [images[j] for j in rng.choice(len(images), n, replace=False)]
        image, boxes, _ = make_numbers.make_one(condition, chosen, rng)
        try:
            planned = plan("x", to_grey(image), digits=n)  # a known count: every wide piece is cut
        except InputError:
            continue
        offset = 0
        for line, cands in zip(planned.lines, planned.candidates):
            if joined and not line.joined:
                offset += len(cands)
                continue
            shapes.append(geometry(line, cands))
            labels.extend(float(max(iou(c.piece.box, b) for b in boxes) >= 0.7) for c in cands)
            pictures.append(planned.images[offset:offset + len(cands)])
            offset += len(cands)
    return np.concatenate(pictures), np.concatenate(shapes), np.array(labels, np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="MNIST IDX folder (its train-* files are used)")
    parser.add_argument("--numbers", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="default: digitkit/reading/verifier.npz, or "
                        "verifier-joined.npz with --joined")
    parser.add_argument("--conditions", help="comma-separated make_numbers conditions (default: all seven, "
                        "touching twice; with --joined: touching)")
    parser.add_argument("--joined", action="store_true",
                        help="train the verifier of lines where digits run together, on those lines only")
    args = parser.parse_args()
    conditions = tuple(args.conditions.split(",")) if args.conditions else ("touching",) if args.joined else CONDITIONS
    args.out = args.out or ROOT / "digitkit" / "reading" / ("verifier-joined.npz" if args.joined else "verifier.npz")
    from digitkit.data.idx import find_idx_files, read_idx_pair

    images, _ = read_idx_pair(*find_idx_files(args.data, "train"))
    pictures, shapes, labels = examples(images, args.numbers, args.seed, conditions, args.joined)
    print(f"{len(labels)} candidates, {labels.mean() * 100:.1f}% whole digits")

    import keras

    from digitkit.reading.verifier import features

    keras.utils.set_random_seed(args.seed)
    x = features(pictures, shapes)
    order = np.random.default_rng(args.seed).permutation(len(x))
    x, y = x[order], labels[order]
    split = int(0.9 * len(x))
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(128, activation="relu", name="hidden"),
                              keras.layers.Dense(1, name="logit")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=["binary_accuracy"])
    model.fit(x[:split], y[:split], validation_data=(x[split:], y[split:]), epochs=args.epochs, batch_size=256,
              verbose=2)
    w1, b1 = model.get_layer("hidden").get_weights()
    w2, b2 = model.get_layer("logit").get_weights()
    np.savez_compressed(args.out, w1=w1.astype(np.float16), b1=b1.astype(np.float16), w2=w2.astype(np.float16),
                        b2=b2.astype(np.float16))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
