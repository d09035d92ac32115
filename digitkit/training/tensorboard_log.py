"""TensorBoard event files for every fit, in the run's ``tensorboard/`` folder.

Layout (each folder is one TensorBoard "run", so training and validation curves overlay):

- ``tensorboard/``: hyperparameters (HParams plugin) and, at the end, the test accuracy
  and loss, the confusion matrix and a grid of the worst test mistakes as images;
- ``train/`` and ``validation/``: ``epoch_loss``, ``epoch_accuracy`` per epoch (step =
  epoch); ``train/`` also ``epoch_learning_rate``, ``epoch_samples_per_s`` and the graph;
- ``batch/``: ``batch_loss``, ``batch_accuracy``, ``batch_samples_per_s`` at each progress
  update (step = batches done since the start of the run).

The records are written with TensorBoard's own pure-Python protobufs and record writer, not
``tf.summary``: no writer thread, nothing to flush at exit, and a write costs microseconds.
A resumed fit first drops what the interrupted epoch had logged (its steps come again),
then appends a new event file to the same folders, so no step is ever recorded twice.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path
from typing import Any

import numpy as np

from digitkit._internal import atomic
from digitkit.training.progress import BatchUpdate, FitPlan, FitProgress

FOLDER = "tensorboard"
SUBFOLDERS = ("train", "validation", "batch")
WORST_MISTAKES = 12
MAX_EVENT_FILE = 256 * 2**20  # our own files; a bigger one is not ours to rewrite
HINT = "pip install tensorboard"


def available() -> bool:
    try:
        import tensorboard.compat.proto.event_pb2  # noqa: F401
    except ImportError:
        return False
    return True


class EventFile:
    """One ``events.out.tfevents.*`` file in ``folder``, appended record by record."""

    _count = 0

    def __init__(self, folder: Path) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.summary.writer.record_writer import RecordWriter

        folder.mkdir(parents=True, exist_ok=True)
        EventFile._count += 1
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{EventFile._count}"
        self.path = folder / name
        self._file = open(self.path, "ab")
        self._records = RecordWriter(self._file)
        self.write(Event(wall_time=time.time(), step=0, file_version="brain.Event:2"))

    def write(self, event: Any) -> None:
        self._records.write(event.SerializeToString())

    def summary(self, step: int, summary: Any) -> None:
        from tensorboard.compat.proto.event_pb2 import Event

        self.write(Event(wall_time=time.time(), step=int(step), summary=summary))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary

        self.summary(step, Summary(value=[Summary.Value(tag=tag, simple_value=float(v))
                                          for tag, v in values.items()]))

    def image(self, step: int, tag: str, png: bytes) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary

        width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
        image = Summary.Image(height=height, width=width, colorspace=4, encoded_image_string=png)
        self.summary(step, Summary(value=[Summary.Value(tag=tag, image=image)]))

    def graph(self, graph_def: bytes) -> None:
        from tensorboard.compat.proto.event_pb2 import Event

        self.write(Event(wall_time=time.time(), step=0, graph_def=graph_def))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def event_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("events.out.tfevents.*") if p.is_file()) if folder.is_dir() else []


def drop_steps_after(folder: Path, last_step: int) -> int:
    """Rewrite ``folder``'s event files without the events past ``last_step``; returns how
    many were dropped. Version headers (step 0) always stay."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.summary.writer.record_writer import RecordWriter
    import io

    dropped = 0
    for path in event_files(folder):
        if path.stat().st_size > MAX_EVENT_FILE:
            continue
        kept, gone = [], 0
        for raw in RawEventFileLoader(str(path)).Load():
            if Event.FromString(raw).step > last_step:
                gone += 1
            else:
                kept.append(raw)
        if gone:
            buffer = io.BytesIO()
            writer = RecordWriter(buffer)
            for raw in kept:
                writer.write(raw)
            atomic.write_bytes(path, buffer.getvalue())
            dropped += gone
    return dropped


def hparams_of(config: Any) -> dict[str, Any]:
    """The hyperparameters shown in TensorBoard's HParams tab (bool, number or text only)."""
    recipe = config.recipe
    values = {"model": config.spec.name, "dataset": config.dataset or "mnist", "epochs": recipe.epochs,
              "batch_size": recipe.batch_size, "learning_rate": float(recipe.learning_rate),
              "optimizer": str(recipe.optimizer), "validation_split": float(recipe.validation_split),
              "seed": config.seed, "augment": config.augment, "early_stopping": config.early_stopping,
              "mixed_precision": config.mixed_precision}
    return {k: v for k, v in values.items() if isinstance(v, (bool, int, float, str))}


def graph_def(model: Any) -> bytes | None:
    """The model's inference graph as a serialized ``GraphDef`` (traced once), or None."""
    import tensorflow as tf

    inputs = getattr(model, "inputs", None)
    if not inputs:
        return None
    spec = tf.TensorSpec((None, *tuple(inputs[0].shape)[1:]), inputs[0].dtype)
    traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    return traced.graph.as_graph_def().SerializeToString()


def probabilities_of(model: Any, images: np.ndarray, batch_size: int) -> np.ndarray:
    scores = np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)
    if not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3) or (scores < 0).any():  # logits
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
    return scores


class BoardLog(FitProgress):
    """Writes a fit's TensorBoard event files as the fit reports its progress."""

    label = "TensorBoard log"

    def __init__(self) -> None:
        self.files: dict[str, EventFile] = {}
        self.plan: FitPlan | None = None

    def start(self, plan: FitPlan) -> None:
        self.plan = plan

    def fitting(self, model: Any, config: Any, data: Any) -> None:
        plan = self.plan
        if plan is None:
            return
        self.model, self.config, self.data = model, config, data
        root = Path(plan.run_path) / FOLDER
        fresh = not event_files(root)
        done = plan.initial_epoch
        for name in ("train", "validation"):
            drop_steps_after(root / name, done)
        drop_steps_after(root / "batch", done * plan.steps_per_epoch)
        drop_steps_after(root, done)
        self.files = {"": EventFile(root), **{name: EventFile(root / name) for name in SUBFOLDERS}}
        if fresh:
            self._hparams(config)
            try:
                graph = graph_def(model)
            except Exception:  # a model that cannot be traced on its own still trains
                graph = None
            if graph:
                self.files["train"].graph(graph)
        self._flush()

    def _hparams(self, config: Any) -> None:
        from tensorboard.plugins.hparams import api as hp
        from tensorboard.plugins.hparams import summary_v2

        values = hparams_of(config)
        metrics = [hp.Metric("epoch_accuracy", group="validation", display_name="validation accuracy"),
                   hp.Metric("epoch_loss", group="validation", display_name="validation loss"),
                   hp.Metric("epoch_accuracy", group="train", display_name="training accuracy"),
                   hp.Metric("test/accuracy", display_name="test accuracy")]
        root = self.files[""]
        root.summary(0, summary_v2.hparams_config_pb([hp.HParam(k) for k in values], metrics))
        root.summary(0, summary_v2.hparams_pb(values, trial_id=self.plan.run_id if self.plan else None))

    def update(self, update: BatchUpdate) -> None:
        if not self.files or self.plan is None:
            return
        step = (update.epoch - 1) * update.batches + update.batch
        values = {f"batch_{k}": v for k, v in update.logs.items() if k in ("loss", "accuracy")}
        values["batch_samples_per_s"] = update.samples_per_s
        self.files["batch"].scalars(step, values)

    def epoch_end(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        if not self.files or self.plan is None:
            return
        train = {f"epoch_{k}": v for k, v in logs.items() if k in ("loss", "accuracy")}
        learning_rate = _learning_rate(self.model)
        if learning_rate is not None:
            train["epoch_learning_rate"] = learning_rate
        if seconds > 0:
            train["epoch_samples_per_s"] = self.plan.train_size / seconds
        self.files["train"].scalars(epoch, train)
        validation = {f"epoch_{k[4:]}": v for k, v in logs.items() if k in ("val_loss", "val_accuracy")}
        if validation:
            self.files["validation"].scalars(epoch, validation)
        self._flush()

    def evaluating(self) -> None:
        """Predict the test split now: the model holds the weights the test metrics are of
        (after evaluation the loop may load the best epoch's weights to save them)."""
        from digitkit.data.adapt import adapt_images

        self.probabilities = None
        if self.files:
            x = adapt_images(self.data.test.images, self.config.spec.input)
            self.probabilities = probabilities_of(self.model, x, self.config.recipe.batch_size)

    def end(self, result: Any) -> None:
        try:
            if result is not None and self.files:
                self._test_figures(result)
        finally:
            self.close()

    def _test_figures(self, result: Any) -> None:
        from digitkit.figures import digits, plots
        from digitkit.evaluation.metrics import confusion_matrix

        step, test = result.epochs_completed, self.data.test
        root = self.files[""]
        root.scalars(step, {f"test/{k}": v for k, v in result.test_metrics.items()})
        probabilities = getattr(self, "probabilities", None)
        if probabilities is None:
            return
        labels = np.asarray(test.labels)
        root.image(step, "test/confusion_matrix",
                   plots.confusion_heatmap(confusion_matrix(labels, probabilities.argmax(axis=1), 10)))
        predicted = probabilities.argmax(axis=1)
        wrong = np.flatnonzero(predicted != labels)
        worst = wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][:WORST_MISTAKES]
        if len(worst):
            root.image(step, "test/worst_mistakes",
                       digits.mistakes_grid(test.images, labels, probabilities, [int(i) for i in worst]))

    def _flush(self) -> None:
        for file in self.files.values():
            file.flush()

    def close(self) -> None:
        for file in self.files.values():
            file.close()
        self.files = {}


def _learning_rate(model: Any) -> float | None:
    try:
        return float(np.asarray(model.optimizer.learning_rate))
    except Exception:  # an optimizer without a readable rate: the curve is just missing
        return None
