"""Fine-tune shipped weights to say "not a digit": outlier exposure on synthetic non-digits.

    python scripts/outlier_exposure.py --dataset MNIST_IDX_DIR --model cnn-best --out DIR
        [--epochs 2] [--outliers 8000] [--contents letter,scribble,shape,noise,pair]

Outlier exposure (Hendrycks et al., 2019, "Deep Anomaly Detection with Outlier Exposure",
arXiv:1812.04606): training continues on the model's own training digits (the validation
digits ``digitkit.fit`` held out stay unseen, for calibration) plus synthetic non-digits
from ``scripts/make_nondigits.py`` (other seeds than the benchmark's) whose target is the
uniform distribution, so the model learns to spread its belief over the ten classes when
the picture is not a digit. Only ``--contents`` are shown in training; the benchmark's
other contents measure whether it generalises. Writes ``DIR/MODEL.keras`` (float32) for
``scripts/train_pretrained.py``-style packaging, and prints the MNIST test accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from train_pretrained import inference_model  # noqa: E402


def outliers(count: int, contents: list[str], digits: np.ndarray, seed: int) -> np.ndarray:
    import make_nondigits

    rng = np.random.default_rng([seed, 1000])
    return np.stack([make_nondigits.content(contents[i % len(contents)], rng, digits) for i in range(count)])


def training_model(name: str, shipped):
    """The model as fit trains it (with its training-only augmentation), holding the shipped weights:
    without cnn-best's augmentation the fine-tune forgets the real-world robustness it gives."""
    from digitkit.plugins import registry

    spec = registry.get_spec(name)
    model = spec.build()  # the zoo builds it with its training-only layers (cnn-best: augmentation)
    for layer in model.layers:
        if layer.weights and layer.name in {l.name for l in shipped.layers}:
            layer.set_weights(shipped.get_layer(layer.name).get_weights())
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--model", default="cnn-best")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--outliers", type=int, default=8000)
    parser.add_argument("--weight", type=float, default=0.5, help="loss weight of the outliers (the paper's lambda)")
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--contents", default="letter,scribble,shape,noise,pair")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from digitkit._internal.quiet import silence_tensorflow_startup

    silence_tensorflow_startup()
    import keras

    from digitkit import pretrained
    from digitkit.data import load_digits
    from digitkit.modelfiles.keras_file import load_model, save_model
    from digitkit.training.data import split_validation

    card = pretrained.card(args.model)
    train = split_validation(load_digits(str(args.dataset), "train"), float(card["recipe"]["validation_split"]),
                             int(card["seed"])).train
    test = load_digits(str(args.dataset), "test")
    started = time.perf_counter()
    fake = outliers(args.outliers, args.contents.split(","), train.images, args.seed)
    print(f"{len(fake):,} outliers made in {time.perf_counter() - started:.0f} s", flush=True)
    x = np.concatenate([train.images, fake]).astype(np.float32)[..., None] / 255.0
    y = np.zeros((len(x), 10), np.float32)
    y[np.arange(len(train.labels)), train.labels] = 1.0
    y[len(train.labels):] = 0.1  # the uniform distribution: "none of the ten"
    weights = np.r_[np.ones(len(train.labels)), np.full(len(fake), args.weight)].astype(np.float32)

    keras.utils.set_random_seed(args.seed)
    shipped = load_model(pretrained.path(args.model, "keras"))
    x_test = test.images.astype(np.float32)[..., None] / 255.0
    before = float((shipped.predict(x_test, batch_size=512, verbose=0).argmax(1) == test.labels).mean())
    model = training_model(args.model, shipped)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    order = np.random.default_rng(args.seed).permutation(len(x))
    model.fit(x[order], y[order], sample_weight=weights[order], batch_size=128, epochs=args.epochs, verbose=2)
    model = inference_model(args.model, model)
    after = float((model.predict(x_test, batch_size=512, verbose=0).argmax(1) == test.labels).mean())
    args.out.mkdir(parents=True, exist_ok=True)
    save_model(model, args.out / f"{args.model}.keras")
    print(f"MNIST test accuracy {before:.4f} -> {after:.4f}; {time.perf_counter() - started:.0f} s; "
          f"wrote {args.out / (args.model + '.keras')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
