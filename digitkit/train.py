"""``digitkit.fit``: train a model from the zoo into a run directory.

The recipe of the model's spec gives the defaults; every argument overrides it and the
override is recorded in the run's manifest. Training runs one ``model.fit`` call per
epoch so that the loop here owns what happens between epochs: resumable checkpoints,
history, best weights, early stopping, and stopping cleanly on Ctrl-C or SIGTERM.

    >>> import digitkit
    >>> result = digitkit.fit("dense-sigmoid", epochs=1, train_size=500)   # doctest: +SKIP
    >>> result.test_metrics["accuracy"]                                     # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitkit import home, registry, runs
from digitkit.data import load_digits
from digitkit.errors import DigitkitError, Interrupted
from digitkit.training import state as train_state
from digitkit.training.callbacks import BatchWatch, NaNLoss, StopRequested, StopSignals
from digitkit.training.config import FitConfig, new_config, resume_config
from digitkit.training.data import EpochData, eval_dataset, limit, split_validation
from digitkit.training.progress import FitPlan, FitProgress

@dataclass
class FitResult:
    """What :func:`fit` returns once the run completed."""

    run_id: str
    run_path: Path
    model: str
    status: str
    epochs: int
    epochs_completed: int
    history: dict[str, list[float]]
    test_metrics: dict[str, float]
    duration_s: float
    best_epoch: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def run(self) -> runs.Run:
        return runs.Run(self.run_path)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "run_path": str(self.run_path), "model": self.model, "status": self.status,
                "epochs": self.epochs, "epochs_completed": self.epochs_completed, "best_epoch": self.best_epoch,
                "test_metrics": self.test_metrics, "duration_s": self.duration_s, "history": self.history,
                "notes": self.notes}


def fit(
    model_name: str | None = None,
    *,
    dataset: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    seed: int | None = None,
    validation_split: float | None = None,
    early_stopping: bool = False,
    patience: int | None = None,
    augment: bool = False,
    gpu: bool = False,
    devices: int | str | None = None,
    mixed_precision: bool = False,
    out: str | Path | None = None,
    resume: str | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    callbacks: list[Any] | None = None,
    progress: FitProgress | None = None,
) -> FitResult:
    """Train a model with its recipe (or overrides) and write a run directory.

    Args:
        model_name: a registered model name; optional with ``resume``.
        dataset: dataset name or IDX folder (see :func:`digitkit.load_digits`).
        epochs, batch_size, learning_rate, validation_split: override the recipe.
        seed: seed of weights, data order, dropout and augmentation (random when omitted,
            recorded either way); the same seed on the same machine repeats a run bit for bit on CPU.
        early_stopping: stop when the validation loss (training loss without validation)
            has not improved for ``patience`` epochs; the best weights are kept.
        patience: epochs to wait with ``early_stopping`` (default 3).
        augment: random shifts, rotations, scale and stroke width on training digits.
        gpu: require a GPU (UnavailableError when none is visible).
        devices: train data-parallel on this many devices, or ``"all"``.
        mixed_precision: float16 compute on GPU.
        out: folder to hold the run directory instead of the home's ``runs/``.
        resume: id or folder of an interrupted run to continue to its planned epochs
            (``epochs`` may raise the plan; nothing else may change).
        train_size, test_size: use only the first N training / test digits.
        callbacks: extra Keras callbacks, called inside every epoch.
        progress: receives progress events (see :class:`digitkit.training.progress.FitProgress`).

    Raises:
        UsageError: bad options, unknown model, run not resumable.
        UnavailableError: ``gpu`` or ``devices`` asks for hardware that is not here.
        Interrupted: Ctrl-C / SIGTERM; the run keeps its state and can be resumed.
        DigitkitError: the loss became NaN (the last good state is kept).
    """
    progress = progress or FitProgress()
    if resume is not None:
        run, config = resume_config(resume, model_name, locals())
    else:
        config = new_config(model_name, locals())
        run = None
    return _Trainer(config, run, out, progress, callbacks or []).run()


class _Trainer:
    """One fit, from data to a completed (or interrupted) run directory."""

    def __init__(self, config: FitConfig, run: runs.Run | None, out: str | Path | None, progress: FitProgress,
                 callbacks: list[Any]) -> None:
        self.config, self.run_dir, self.out = config, run, out
        self.progress, self.callbacks = progress, callbacks
        self.resuming = run is not None
        self.notes: list[str] = []

    # -- setup -------------------------------------------------------------------------------------
    def _load_data(self) -> None:
        cfg = self.config
        train = limit(load_digits(cfg.dataset, "train"), cfg.train_size)
        self.test = limit(load_digits(cfg.dataset, "test"), cfg.test_size)
        split = split_validation(train, cfg.recipe.validation_split, cfg.seed)
        self.train, self.validation = split.train, split.validation
        self.fingerprint = train.fingerprint()
        self.notes += list(train.notes)
        self.full_train_size = len(train)

    def _dataset_fields(self) -> dict[str, Any]:
        cfg = self.config
        return {"name": cfg.dataset or self.train.dataset, "source": self.train.source,
                "fingerprint": self.fingerprint, "train_size": len(self.train),
                "validation_size": len(self.validation) if self.validation else 0, "test_size": len(self.test),
                "requested": cfg.dataset, "train_limit": cfg.train_size, "test_limit": cfg.test_size}

    def _prepare_runtime(self) -> None:
        import tensorflow as tf

        from digitkit.training import distribute, speed

        cfg = self.config
        has_gpu = bool(tf.config.list_physical_devices("GPU"))
        dense_guess = speed.likely_dense(cfg.spec.input.shape) and not has_gpu
        if not speed.apply_threading(1 if dense_guess else None):
            self.notes.append("TensorFlow had already started: thread settings left as they were")
        self.placement = distribute.choose_placement(gpu=bool(cfg.options.get("gpu")),
                                                     devices=cfg.options.get("devices"),
                                                     mixed_precision=bool(cfg.options.get("mixed_precision")))
        speed.make_deterministic(cfg.seed)
        self.speed_module = speed

    def _build_model(self) -> Any:
        import keras

        cfg, recipe = self.config, self.config.recipe
        policy = keras.mixed_precision.global_policy().name
        if cfg.options.get("mixed_precision"):
            keras.mixed_precision.set_global_policy("mixed_float16")
        try:
            with self.placement.strategy.scope():
                model = cfg.spec.build()
                self.speed = self.speed_module.choose_settings(model, on_gpu=self.placement.on_gpu,
                                                             distributed=self.placement.kind != "default")
                optimizer = keras.optimizers.get({"class_name": recipe.optimizer,
                                                  "config": {"learning_rate": recipe.learning_rate}})
                if recipe.label_encoding == "one-hot":
                    loss = keras.losses.CategoricalCrossentropy(from_logits=recipe.from_logits)
                    metric = keras.metrics.CategoricalAccuracy(name="accuracy")
                else:
                    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=recipe.from_logits)
                    metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
                model.compile(optimizer=optimizer, loss=loss, metrics=[metric],
                              steps_per_execution=self.speed.steps_per_execution, jit_compile=self.speed.jit_compile)
                # Built now so that the state saved before epoch 1 (and restored on resume) holds every slot.
                model.optimizer.build(model.trainable_variables)
        finally:
            keras.mixed_precision.set_global_policy(policy)
        return model

    def _manifest_fields(self) -> dict[str, Any]:
        from digitkit import environment

        cfg = self.config
        provider = registry.get_model(cfg.spec.name).provider
        return {
            "plugin": {"distribution": provider.distribution, "version": provider.version},
            "spec": cfg.spec.metadata(), "recipe": cfg.recipe.to_dict(), "overrides": cfg.overrides,
            "options": cfg.options, "seed": cfg.seed, "dataset": self._dataset_fields(),
            "versions": environment.library_versions(), "machine": environment.machine(),
            "placement": self.placement.describe(), "speed": self.speed.to_dict(),
            "epochs_planned": cfg.recipe.epochs, "epochs_completed": 0, "test_metrics": None,
        }

    # -- the run -----------------------------------------------------------------------------------
    def run(self) -> FitResult:
        started = time.perf_counter()
        self._load_data()
        self._prepare_runtime()
        model = self._build_model()
        cfg = self.config
        epoch_data = EpochData(self.train, cfg.spec.input, batch_size=cfg.recipe.batch_size,
                               label_encoding=cfg.recipe.label_encoding, seed=cfg.seed,
                               augment=bool(cfg.options.get("augment")), num_classes=cfg.spec.num_classes,
                               whole_batches=self.placement.kind != "default")
        self.history: dict[str, list[float]] = {"epoch": []}
        self.best: dict[str, Any] = {"value": None, "epoch": None, "weights": None, "wait": 0}
        if self.resuming:
            self._restore(model)
        else:
            root = Path(self.out).expanduser() if self.out is not None else None
            self.run_dir = runs.create_run(cfg.spec.name, self._manifest_fields(), root=root)
            self.previous_seconds = 0.0
        try:
            if not self.resuming:
                train_state.save(self.run_dir, model, self._state_info(0), None)  # a good state before epoch 1
            self.progress.start(self._plan(epoch_data))
            with StopSignals() as stop:
                stopped_early = self._epochs(model, epoch_data, stop)
            return self._complete(model, started, stopped_early)
        except (StopRequested, KeyboardInterrupt) as exc:
            raise self._interrupted(started) from None if isinstance(exc, StopRequested) else exc
        except NaNLoss as exc:
            raise self._diverged(exc, started) from None
        except BaseException as exc:
            self._finish_manifest("failed", started, error=f"{type(exc).__name__}: {exc}")
            raise

    def _plan(self, epoch_data: EpochData) -> FitPlan:
        return FitPlan(model=self.config.spec.name, run_id=self.run_dir.id, run_path=str(self.run_dir.path),
                       epochs=self.config.recipe.epochs, initial_epoch=len(self.history["epoch"]),
                       steps_per_epoch=epoch_data.steps_per_epoch, batch_size=self.config.recipe.batch_size,
                       train_size=len(self.train), validation_size=len(self.validation) if self.validation else 0,
                       test_size=len(self.test), placement=self.placement.describe(), notes=list(self.notes))

    def _epochs(self, model: Any, epoch_data: EpochData, stop: StopSignals) -> bool:
        """Train the remaining epochs; True when early stopping ended training."""
        recipe = self.config.recipe
        val = (eval_dataset(self.validation, self.config.spec.input, batch_size=recipe.batch_size,
                            label_encoding=recipe.label_encoding, num_classes=self.config.spec.num_classes,
                            replicas=self.placement.replicas)
               if self.validation else None)
        for epoch in range(len(self.history["epoch"]), recipe.epochs):
            self.progress.epoch_start(epoch + 1)
            watch = BatchWatch(epoch=epoch + 1, steps=epoch_data.steps_per_epoch, batch_size=recipe.batch_size,
                               train_size=epoch_data.size, progress=self.progress, stop=stop)
            began = time.perf_counter()
            keras_history = model.fit(epoch_data.dataset(epoch), epochs=epoch + 1, initial_epoch=epoch,
                                      validation_data=val, verbose=0, shuffle=False,
                                      callbacks=[watch, *self.callbacks])
            seconds = time.perf_counter() - began
            logs = {k: float(v[-1]) for k, v in keras_history.history.items()}
            bad = [k for k, v in logs.items() if not math.isfinite(v)]
            if bad:
                raise NaNLoss(epoch + 1, epoch_data.steps_per_epoch, logs[bad[0]])
            self._record(epoch + 1, logs, seconds)
            stop_now = self._track_best(model, epoch + 1, logs)
            train_state.save(self.run_dir, model, self._state_info(epoch + 1), self.best["weights"])
            self.progress.epoch_end(epoch + 1, logs, seconds)
            if stop_now:
                return True
            if stop.requested and epoch + 1 < recipe.epochs:
                raise StopRequested(stop.requested)
        return False

    def _record(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        self.history["epoch"].append(epoch)
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if key in logs:
                self.history.setdefault(key, []).append(logs[key])
        self.history.setdefault("epoch_seconds", []).append(round(seconds, 4))

    def _track_best(self, model: Any, epoch: int, logs: dict[str, float]) -> bool:
        """Keep the best weights (by validation loss); True when early stopping says stop."""
        monitor = "val_loss" if "val_loss" in logs else "loss"
        value = logs[monitor]
        if self.best["value"] is None or value < self.best["value"]:
            self.best.update(value=value, epoch=epoch, wait=0)
            if "val_loss" in logs:
                self.best["weights"] = model.get_weights()
        else:
            self.best["wait"] += 1
        options = self.config.options
        return bool(options.get("early_stopping")) and self.best["wait"] >= int(options.get("patience") or 1)

    def _state_info(self, epochs_done: int) -> dict[str, Any]:
        return {"epochs_completed": epochs_done, "history": self.history,
                "best": {k: v for k, v in self.best.items() if k != "weights"}}

    def _restore(self, model: Any) -> None:
        info = train_state.load_info(self.run_dir)
        best_weights = train_state.restore(self.run_dir, model)
        self.history = info["history"]
        self.best = {**info["best"], "weights": best_weights}
        self.previous_seconds = float(self.run_dir.manifest.get("duration_s") or 0.0)
        self.notes.append(f"resumed after epoch {info['epochs_completed']}")
        self.run_dir.update_manifest(status="running", recipe=self.config.recipe.to_dict(),
                                     overrides=self.config.overrides, options=self.config.options,
                                     placement=self.placement.describe(), resumed=now_list(self.run_dir))

    # -- endings -----------------------------------------------------------------------------------
    def _write_history(self) -> None:
        import csv
        import io

        run = self.run_dir
        run.write(runs.HISTORY_JSON, self.history)
        keys = list(self.history)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(keys)
        for i in range(len(self.history["epoch"])):
            writer.writerow([self.history[k][i] for k in keys])
        from digitkit import atomic

        atomic.write_text(run.file(runs.HISTORY_CSV), buffer.getvalue())

    def _finish_manifest(self, status: str, started: float, **fields: Any) -> dict[str, Any]:
        duration = self.previous_seconds + time.perf_counter() - started
        self.previous_seconds = duration
        return self.run_dir.update_manifest(status=status, ended=runs.now_iso(), duration_s=round(duration, 3),
                                            epochs_completed=len(self.history["epoch"]), notes=self.notes,
                                            **fields)

    def _resume_command(self) -> str:
        run = self.run_dir
        default_root = Path(home.runs_dir()).expanduser().resolve()
        target = run.id if run.path.parent.resolve() == default_root else str(run.path)
        return f"digitkit fit --resume {target}"

    def _interrupted(self, started: float) -> Interrupted:
        done = len(self.history["epoch"])
        command = self._resume_command()
        self._write_history()
        self._finish_manifest("interrupted", started, resume_command=command)
        self.progress.end(None)
        return Interrupted(f"training interrupted after epoch {done} of {self.config.recipe.epochs}; "
                           f"state kept in {self.run_dir.path / runs.STATE}", hint=f"resume with: {command}")

    def _diverged(self, exc: NaNLoss, started: float) -> DigitkitError:
        done = len(self.history["epoch"])
        message = f"training stopped: {exc}"
        self._write_history()
        self._finish_manifest("failed", started, error=message)
        self.progress.end(None)
        good = f"after epoch {done}" if done else "the initial weights"
        return DigitkitError(f"{message}; the last good state ({good}) is kept in {self.run_dir.path / runs.STATE}",
                             hint="try a lower --learning-rate")

    def _complete(self, model: Any, started: float, stopped_early: bool) -> FitResult:
        from digitkit.modelfile import save_model

        run, recipe = self.run_dir, self.config.recipe
        if stopped_early:
            self.notes.append(f"early stopping after epoch {len(self.history['epoch'])}, "
                              f"best epoch {self.best['epoch']}")
            if self.best["weights"] is not None:
                model.set_weights(self.best["weights"])
        self.progress.evaluating()
        test = eval_dataset(self.test, self.config.spec.input, batch_size=recipe.batch_size,
                            label_encoding=recipe.label_encoding, num_classes=self.config.spec.num_classes,
                            replicas=self.placement.replicas)
        scores = model.evaluate(test, verbose=0, return_dict=True)
        test_metrics = {"loss": float(scores["loss"]), "accuracy": float(scores["accuracy"])}
        save_model(model, run.model_path)
        self._export_litert(model, run)
        if self.best["weights"] is not None and not stopped_early:
            model.set_weights(self.best["weights"])
        if self.best["weights"] is not None:
            save_model(model, run.file(runs.BEST))
        run.write(runs.METRICS, test_metrics)
        self._write_history()
        manifest = self._finish_manifest("completed", started, test_metrics=test_metrics,
                                         best_epoch=self.best["epoch"])
        train_state.clear(run)
        result = FitResult(run.id, run.path, self.config.spec.name, "completed", recipe.epochs,
                           len(self.history["epoch"]), self.history, test_metrics, manifest["duration_s"],
                           self.best["epoch"], list(self.notes))
        self.progress.end(result)
        return result

    def _export_litert(self, model: Any, run: runs.Run) -> None:
        """model.tflite beside model.keras; a failure here is a note, never a failed fit."""
        try:
            from digitkit.exporting import export_litert  # written by the export/predict area
        except ImportError:
            self.notes.append("LiteRT export not available in this version: no model.tflite")
            return
        try:
            export_litert(model, run.file(runs.TFLITE))
        except Exception as exc:  # any exporter failure must leave the trained run intact
            self.notes.append(f"LiteRT export failed: {type(exc).__name__}: {str(exc)[:200]}")


def now_list(run: runs.Run) -> list[str]:
    """Times this run was resumed, with the new one appended."""
    return [*run.manifest.get("resumed", []), runs.now_iso()]
