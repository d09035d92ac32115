"""Per-epoch training time: digitkit fit against the notebook's plain Keras script, model by model.

Each model is trained by a plain script (``model.fit`` on NumPy arrays with the recipe's
batch size and validation split, as the classic notebooks do) and by ``digitkit.fit``, each
in a fresh process (TensorFlow's thread settings are per process), interleaved and repeated
so that a busy machine hurts both alike. Both see the same digits and epochs.

    python benchmarks/train_speed.py --data /path/to/mnist-idx --epochs 4 --repeats 2
    python benchmarks/train_speed.py --models cnn --epochs 3 --progress-cost
    python benchmarks/train_speed.py --models cnn --epochs 3 --repeats 3 --tensorboard-cost

Per run, the seconds per epoch are the median of epochs 2..N (epoch 1 holds the tracing);
the table shows the median over repeats, the speed-up and both test accuracies (mean over
repeats). ``--progress-cost`` adds a digitkit run whose ``steps_per_execution`` is not
capped for progress (a single update per epoch): the cost of >= 10 updates per epoch.
``--tensorboard-cost`` adds a digitkit run with ``no_tensorboard=True``: the cost of the
event files per epoch (batch scalars are written inside the timed epoch), and, apart, the
whole fit's wall time (graph, hyperparameters and the end's test images are once per fit).
Between processes a busy machine's noise can exceed the cost, so the last column also
times the TensorBoard hooks inside each fit: their seconds per epoch over its s/epoch.
Without ``--data`` it uses the bundled sample (6,000 digits).
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


def _time_board_writes() -> dict:
    """Wrap the TensorBoard log's per-batch and per-epoch hooks with a timer: their seconds,
    measured inside the same fit, are the per-epoch cost without the noise between processes."""
    from digitkit.training import tensorboard_log

    spent = {"seconds": 0.0, "once": 0.0}
    for name in ("update", "epoch_end", "fitting", "evaluating", "end"):
        original = getattr(tensorboard_log.BoardLog, name)
        key = "seconds" if name in ("update", "epoch_end") else "once"  # graph, hparams; test predictions, images

        def timed(self, *args, _original=original, _key=key):
            began = time.perf_counter()
            try:
                return _original(self, *args)
            finally:
                spent[_key] += time.perf_counter() - began

        setattr(tensorboard_log.BoardLog, name, timed)
    return spent


def digitkit_fit(model_name: str, data: str | None, epochs: int, **options) -> dict:
    import digitkit

    board = _time_board_writes()
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        result = digitkit.fit(model_name, dataset=data, epochs=epochs, seed=0, out=out, **options)
        wall = time.perf_counter() - began
        speed = result.run.manifest["speed"]
    return {"epoch_seconds": result.history["epoch_seconds"], "accuracy": result.test_metrics["accuracy"],
            "steps_per_execution": speed["steps_per_execution"], "wall_s": wall,
            "board_s_per_epoch": board["seconds"] / max(epochs, 1), "board_once_s": board["once"]}


def digitkit_no_tensorboard(model_name: str, data: str | None, epochs: int) -> dict:
    """digitkit without TensorBoard event files."""
    return digitkit_fit(model_name, data, epochs, no_tensorboard=True)


def digitkit_uncapped(model_name: str, data: str | None, epochs: int) -> dict:
    """digitkit without the progress cap on steps_per_execution (one update per epoch)."""
    from digitkit.training import speed

    speed.UPDATES_PER_EPOCH = 1
    return digitkit_fit(model_name, data, epochs)


WORKERS = {"plain": plain, "digitkit": digitkit_fit, "uncapped": digitkit_uncapped,
           "no-tensorboard": digitkit_no_tensorboard}


def steady(seconds: list[float]) -> float:
    """Median seconds per epoch, leaving out the first (tracing) when there are others."""
    return statistics.median(seconds[1:] or seconds)


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
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--progress-cost", action="store_true", help="also time digitkit without the progress cap")
    parser.add_argument("--tensorboard-cost", action="store_true",
                        help="also time digitkit without TensorBoard event files")
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.models[0], args.data, args.epochs)))
        return
    kinds = (["plain", "digitkit"] + (["uncapped"] if args.progress_cost else [])
             + (["no-tensorboard"] if args.tensorboard_cost else []))
    print(f"data: {args.data or 'bundled sample'}, epochs: {args.epochs}, repeats: {args.repeats} (interleaved); "
          f"s/epoch = median of epochs 2..{args.epochs}, then median over repeats", flush=True)
    results: dict[tuple[str, str], list[dict]] = {}
    for repeat in range(args.repeats):
        for name in args.models:
            for kind in (kinds if repeat % 2 == 0 else kinds[::-1]):  # alternate who goes first
                result = run_worker(kind, name, args.data, args.epochs)
                results.setdefault((name, kind), []).append(result)
                print(f"  repeat {repeat + 1} {name} {kind}: {steady(result['epoch_seconds']):.3f} s/epoch, "
                      f"accuracy {result['accuracy']:.4f}", file=sys.stderr, flush=True)
    header = f"{'model':<20}{'plain s/epoch':>14}{'digitkit s/epoch':>18}{'speed-up':>10}{'plain acc':>11}{'digitkit acc':>14}"
    if args.progress_cost:
        header += f"{'uncapped s/epoch':>18}{'progress cost':>15}"
    print(header)
    for name in args.models:
        row = {kind: results[(name, kind)] for kind in kinds}
        seconds = {kind: statistics.median(steady(r["epoch_seconds"]) for r in rows) for kind, rows in row.items()}
        accuracy = {kind: statistics.mean(r["accuracy"] for r in rows) for kind, rows in row.items()}
        line = (f"{name:<20}{seconds['plain']:>14.3f}{seconds['digitkit']:>18.3f}"
                f"{seconds['plain'] / seconds['digitkit']:>9.2f}x{accuracy['plain']:>11.4f}{accuracy['digitkit']:>14.4f}")
        if args.progress_cost:
            line += f"{seconds['uncapped']:>18.3f}{seconds['digitkit'] / seconds['uncapped'] - 1:>14.1%}"
        print(line, flush=True)
    if args.tensorboard_cost:
        print(f"{'model':<20}{'no-TB s/epoch':>14}{'TB s/epoch':>12}{'TB cost/epoch':>15}"
              f"{'no-TB fit s':>13}{'TB fit s':>10}{'TB cost/fit':>13}{'TB writes/epoch':>17}{'TB once s':>11}")
        for name in args.models:
            epoch = {k: statistics.median(steady(r["epoch_seconds"]) for r in results[(name, k)])
                     for k in ("digitkit", "no-tensorboard")}
            wall = {k: statistics.median(r["wall_s"] for r in results[(name, k)]) for k in ("digitkit", "no-tensorboard")}
            # The hooks' own time inside each TensorBoard fit, as a share of that fit's epochs.
            writes = statistics.median(r["board_s_per_epoch"] / steady(r["epoch_seconds"])
                                       for r in results[(name, "digitkit")])
            once = statistics.median(r["board_once_s"] for r in results[(name, "digitkit")])
            print(f"{name:<20}{epoch['no-tensorboard']:>14.3f}{epoch['digitkit']:>12.3f}"
                  f"{epoch['digitkit'] / epoch['no-tensorboard'] - 1:>15.1%}{wall['no-tensorboard']:>13.2f}"
                  f"{wall['digitkit']:>10.2f}{wall['digitkit'] / wall['no-tensorboard'] - 1:>13.1%}"
                  f"{writes:>17.2%}{once:>11.2f}", flush=True)


if __name__ == "__main__":
    main()
