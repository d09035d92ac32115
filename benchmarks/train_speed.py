"""Per-epoch training time: digitkit fit against a plain Keras script, model by model.

Each model is trained twice, each time in a fresh process (TensorFlow's thread settings
are per process): once by a plain script (``model.fit`` on NumPy arrays with the recipe's
batch size and validation split, as the reference notebooks do) and once by
``digitkit.fit``. Both see the same digits and the same number of epochs.

    python benchmarks/train_speed.py --data /path/to/mnist-idx --epochs 3
    python benchmarks/train_speed.py --models dense-sigmoid cnn --epochs 2

Prints per-epoch medians (the first epoch included; it holds the tracing), the speed-up
and both test accuracies. Without ``--data`` it uses the bundled sample (6,000 digits).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

MODELS = ["dense-sigmoid", "dense-relu-dropout", "256-256-linear", "25-15-10", "cnn"]


def plain(model_name: str, data: str | None, epochs: int) -> dict:
    """The reference way: model.fit on NumPy arrays."""
    import keras

    from digitkit import get_spec, load_digits
    from digitkit.data.adapt import adapt_images, encode_labels

    spec = get_spec(model_name)
    recipe = spec.recipe
    train, test = load_digits(data, "train"), load_digits(data, "test")
    x, y = adapt_images(train.images, spec.input), encode_labels(train.labels, recipe.label_encoding)
    xt, yt = adapt_images(test.images, spec.input), encode_labels(test.labels, recipe.label_encoding)
    keras.utils.set_random_seed(0)
    model = spec.build()
    metric = "categorical_accuracy" if recipe.label_encoding == "one-hot" else "sparse_categorical_accuracy"
    loss_class = (keras.losses.CategoricalCrossentropy if recipe.label_encoding == "one-hot"
                  else keras.losses.SparseCategoricalCrossentropy)
    loss = loss_class(from_logits=recipe.from_logits)
    model.compile(optimizer=keras.optimizers.get({"class_name": recipe.optimizer,
                                                  "config": {"learning_rate": recipe.learning_rate}}),
                  loss=loss, metrics=[metric])
    seconds: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.began)

    model.fit(x, y, batch_size=recipe.batch_size, epochs=epochs, validation_split=recipe.validation_split,
              verbose=0, callbacks=[Timer()])
    accuracy = model.evaluate(xt, yt, verbose=0, return_dict=True)[metric]
    return {"epoch_seconds": seconds, "accuracy": float(accuracy)}


def digitkit_fit(model_name: str, data: str | None, epochs: int) -> dict:
    import digitkit

    with tempfile.TemporaryDirectory() as out:
        result = digitkit.fit(model_name, dataset=data, epochs=epochs, seed=0, out=out)
    return {"epoch_seconds": result.history["epoch_seconds"], "accuracy": result.test_metrics["accuracy"]}


def run_worker(kind: str, model_name: str, data: str | None, epochs: int) -> dict:
    command = [sys.executable, __file__, "--worker", kind, "--models", model_name, "--epochs", str(epochs)]
    if data:
        command += ["--data", data]
    proc = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{kind} {model_name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder of MNIST IDX files (default: the bundled sample)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--worker", choices=["plain", "digitkit"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        work = plain if args.worker == "plain" else digitkit_fit
        print(json.dumps(work(args.models[0], args.data, args.epochs)))
        return
    header = f"{'model':<20}{'plain s/epoch':>14}{'digitkit s/epoch':>18}{'speed-up':>10}{'plain acc':>11}{'digitkit acc':>14}"
    print(f"data: {args.data or 'bundled sample'}, epochs: {args.epochs}, per-epoch medians")
    print(header)
    for name in args.models:
        base = run_worker("plain", name, args.data, args.epochs)
        ours = run_worker("digitkit", name, args.data, args.epochs)
        base_s, ours_s = statistics.median(base["epoch_seconds"]), statistics.median(ours["epoch_seconds"])
        print(f"{name:<20}{base_s:>14.3f}{ours_s:>18.3f}{base_s / ours_s:>9.2f}x"
              f"{base['accuracy']:>11.4f}{ours['accuracy']:>14.4f}", flush=True)


if __name__ == "__main__":
    main()
