"""One fit, from checked options to a completed (or interrupted) run directory.

Training runs one ``model.fit`` call per epoch so that the loop here owns what happens
between epochs: resumable checkpoints, history, best weights, early stopping, and stopping
cleanly on Ctrl-C or SIGTERM. The run is locked for the whole fit (``training/lock.py``).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from digitkit import runs
from digitkit.errors import DigitkitError, Interrupted, UsageError
from digitkit.training import lock, state as train_state
from digitkit.training.best import BestEpoch
from digitkit.training.config import FitConfig, find_run, new_config, resume_config
from digitkit.training.history import History
from digitkit.training.listeners import with_sinks
from digitkit.training.options import FitOptions
from digitkit.training.progress import EpochClock, FitPlan, FitProgress
from digitkit.training.result import FitResult
from digitkit.training.rundir import RunWriter, manifest_fields


def fit(options: FitOptions, *, callbacks: list[Any] | None = None, progress: FitProgress | None = None) -> FitResult:
    """Check ``options`` (no TensorFlow yet), then train; see :func:`digitkit.training.fit`."""
    options.check()
    progress = with_sinks(options, progress or FitProgress())  # TensorBoard, MLflow
    if options.resume is not None:
        run = find_run(options.resume)
        with lock.hold(run.path, run.id):
            run, config = resume_config(options, run)
            return _Fit(config, progress, callbacks or [], run=run).run()
    return _Fit(new_config(options), progress, callbacks or [], out=options.out).run()


class _Fit:
    """The steps of one fit; each method is one of them."""

    def __init__(self, config: FitConfig, progress: FitProgress, callbacks: list[Any], *,
                 run: runs.Run | None = None, out: str | Path | None = None) -> None:
        self.config, self.progress, self.callbacks = config, progress, callbacks
        self.resumed_run, self.out = run, out
        self.notes: list[str] = []
        self.history = History()
        self.best = BestEpoch()

    def run(self) -> FitResult:
        started = time.perf_counter()
        self.progress.phase("loading TensorFlow")
        from digitkit.training import distribute, runtime
        from digitkit.training.data import EpochData, eval_dataset

        rt = runtime.start(self.config)
        self.placement, self.notes = rt.placement, self.notes + rt.notes
        self.progress.phase("loading data")
        data = self._load_data()
        cfg = self.config
        epoch_data = EpochData(data.train, cfg.spec.input, batch_size=cfg.recipe.batch_size,
                               label_encoding=cfg.recipe.label_encoding, seed=cfg.seed, augment=cfg.augment,
                               num_classes=cfg.spec.num_classes, whole_batches=self.placement.kind != "default")
        self.progress.phase("building the model")
        model, self.speed = runtime.build_model(cfg, rt, epoch_data.steps_per_epoch)
        self.eval_args = {"batch_size": cfg.recipe.batch_size, "label_encoding": cfg.recipe.label_encoding,
                          "num_classes": cfg.spec.num_classes, "replicas": self.placement.replicas}
        self.validation = eval_dataset(data.validation, cfg.spec.input, **self.eval_args) if data.validation else None
        self.test = eval_dataset(data.test, cfg.spec.input, **self.eval_args)
        if self.placement.kind == "multi-worker":
            distribute.prebuild_for_multi_worker(model, next(iter(self.test)))
        self.data = data
        self.compare = self._before_after(model, data)
        if self.resumed_run is not None:
            self.writer = RunWriter(self.resumed_run, previous_seconds=self._restore(model))
            return self._train(model, epoch_data, started)
        root = Path(self.out).expanduser() if self.out is not None else None
        if self.placement.kind == "multi-worker" and not distribute.is_chief():
            return self._train_as_worker(model, epoch_data, started)
        run = runs.create_run(cfg.spec.name, manifest_fields(cfg, data, self.placement, self.speed), root=root)
        self.writer = RunWriter(run)
        with lock.hold(run.path, run.id):
            return self._train(model, epoch_data, started, first=True)

    def _train_as_worker(self, model: Any, epoch_data: Any, started: float) -> FitResult:
        """A non-chief worker trains in step with the chief; its run folder is scratch space
        (every worker must write its checkpoints somewhere) and is removed: the chief's run is
        the one that stays."""
        import shutil
        import tempfile

        scratch = Path(tempfile.mkdtemp(prefix="digitkit-worker-"))
        try:
            run = runs.create_run(self.config.spec.name, manifest_fields(self.config, self.data, self.placement,
                                                                         self.speed), root=scratch)
            self.writer = RunWriter(run)
            self.notes.append("non-chief worker: the chief keeps the run")
            return self._train(model, epoch_data, started, first=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _before_after(self, model: Any, data: Any) -> Any:
        """A fine-tune scores its parent's weights before training (not on resume: gone)."""
        if self.config.finetune is None or self.resumed_run is not None:
            return None
        from digitkit.training.finetune import BeforeAfter

        self.progress.phase("scoring the parent model")
        compare = BeforeAfter(self.config, data.test, self.eval_args, status=self.progress.note)
        compare.measure_before(model)
        return compare

    def _load_data(self) -> Any:
        from digitkit.training.data import load_split_data

        data = load_split_data(self.config, status=self.progress.note)
        self.notes += data.notes
        return data

    def _plan(self, steps_per_epoch: int) -> FitPlan:
        cfg, data, run = self.config, self.data, self.writer.run
        return FitPlan(model=cfg.spec.name, run_id=run.id, run_path=str(run.path), epochs=cfg.recipe.epochs,
                       initial_epoch=len(self.history), steps_per_epoch=steps_per_epoch,
                       batch_size=cfg.recipe.batch_size, train_size=len(data.train),
                       validation_size=len(data.validation) if data.validation else 0, test_size=len(data.test),
                       placement=self.placement.describe(), notes=list(self.notes),
                       steps_per_execution=self.speed.steps_per_execution)

    def _train(self, model: Any, epoch_data: Any, started: float, *, first: bool = False) -> FitResult:
        from digitkit.training.callbacks import NaNLoss, StopRequested, StopSignals

        try:
            if first:  # a good state before epoch 1, so even a crash in epoch 1 can resume
                train_state.save(self.writer.run, model, self._state_info(), None)
            plan = self._plan(epoch_data.steps_per_epoch)
            self.clock = EpochClock(plan)
            self.clock.epoch_seconds = list(self.history.data.get("epoch_seconds", []))
            self.progress.start(plan)
            self.progress.fitting(model, self.config, self.data)
            with StopSignals() as stop:
                stopped_early = self._epochs(model, epoch_data, stop)
            return self._complete(model, started, stopped_early)
        except (StopRequested, KeyboardInterrupt) as exc:
            raise self._interrupted(started) from None if isinstance(exc, StopRequested) else exc
        except NaNLoss as exc:
            raise self._diverged(exc, started) from None
        except BaseException as exc:
            self.writer.finish("failed", started, self.history, self.notes, error=f"{type(exc).__name__}: {exc}")
            raise

    def _epochs(self, model: Any, epoch_data: Any, stop: Any) -> bool:
        """Train the remaining epochs; True when early stopping ended training."""
        from digitkit.training.callbacks import BatchWatch, NaNLoss, StopRequested

        cfg = self.config
        for epoch in range(len(self.history), cfg.recipe.epochs):
            self.progress.epoch_start(epoch + 1)
            watch = BatchWatch(epoch=epoch + 1, clock=self.clock, progress=self.progress, stop=stop)
            began = time.perf_counter()
            keras_history = model.fit(epoch_data.dataset(epoch), epochs=epoch + 1, initial_epoch=epoch,
                                      validation_data=self.validation, verbose=0, shuffle=False,
                                      callbacks=[watch, *self.callbacks])
            seconds = time.perf_counter() - began
            logs = {k: float(v[-1]) for k, v in keras_history.history.items()}
            bad = [k for k, v in logs.items() if not math.isfinite(v)]
            if bad:
                raise NaNLoss(epoch + 1, epoch_data.steps_per_epoch, logs[bad[0]])
            self.history.record(epoch + 1, logs, seconds)
            self.best.update(model, epoch + 1, logs)
            train_state.save(self.writer.run, model, self._state_info(), self.best.weights)
            self.clock.epoch_ended(seconds)
            self.progress.epoch_end(epoch + 1, logs, seconds)
            if cfg.early_stopping and self.best.should_stop(cfg.patience):
                return True
            if stop.requested and epoch + 1 < cfg.recipe.epochs:
                raise StopRequested(stop.requested)
        return False

    def _state_info(self) -> dict[str, Any]:
        return {"epochs_completed": len(self.history), "history": self.history.to_dict(), "best": self.best.to_dict()}

    def _restore(self, model: Any) -> float:
        """Load the saved state into ``model``; returns the seconds trained before."""
        run = self.resumed_run
        info = train_state.load_info(run)
        best_weights = train_state.restore(run, model)
        self.history = History(info["history"])
        self.best = BestEpoch.from_saved(info["best"], best_weights)
        self.notes.append(f"resumed after epoch {info['epochs_completed']}")
        manifest = run.manifest
        run.update_manifest(status="running", recipe=self.config.recipe.to_dict(), overrides=self.config.overrides,
                            options=self.config.options, placement=self.placement.describe(),
                            resumed=[*(manifest.get("resumed") or []), runs.now_iso()])
        return float(manifest.get("duration_s") or 0.0)

    # -- endings -----------------------------------------------------------------------------------
    def _calibrate(self, model: Any) -> dict[str, Any] | None:
        """Fit the temperature on the validation digits (see training/calibration.py)."""
        from digitkit.training.calibration import calibrate_model

        spec = self.config.spec
        record, note = calibrate_model(model, self.data.validation, spec, spec.output or "auto")
        if note:
            self.notes.append(note)
        return record

    def _interrupted(self, started: float) -> Interrupted:
        command = self.writer.resume_command()
        self.history.write(self.writer.run)
        self.writer.finish("interrupted", started, self.history, self.notes, resume_command=command)
        self.progress.end(None)
        return Interrupted(f"training interrupted after epoch {len(self.history)} of {self.config.recipe.epochs}; "
                           f"state kept in {self.writer.run.path / runs.STATE}", hint=f"resume with: {command}")

    def _diverged(self, exc: Exception, started: float) -> DigitkitError:
        done = len(self.history)
        message = f"training stopped: {exc}"
        self.history.write(self.writer.run)
        self.writer.finish("failed", started, self.history, self.notes, error=message)
        self.progress.end(None)
        good = f"after epoch {done}" if done else "the initial weights"
        return DigitkitError(f"{message}; the last good state ({good}) is kept in "
                             f"{self.writer.run.path / runs.STATE}", hint="try a lower --learning-rate")

    def _complete(self, model: Any, started: float, stopped_early: bool) -> FitResult:
        from digitkit._internal.quiet import quiet_native_stderr

        run, recipe = self.writer.run, self.config.recipe
        if stopped_early:
            self.notes.append(f"early stopping after epoch {len(self.history)}, best epoch {self.best.epoch}")
            if self.best.weights is not None:
                model.set_weights(self.best.weights)
        self.progress.evaluating()
        with quiet_native_stderr():  # TensorFlow's late C++ log lines come from here
            scores = model.evaluate(self.test, verbose=0, return_dict=True)
        test_metrics = {"loss": float(scores["loss"]), "accuracy": float(scores["accuracy"])}
        finetune = {"finetune": self.compare.after(model)} if self.compare is not None else {}
        calibration = self._calibrate(model)  # the weights model.keras is about to hold
        self.notes += self.writer.save_models(model, self.best.weights, stopped_early)
        run.write(runs.METRICS, test_metrics)
        self.history.write(run)
        manifest = self.writer.finish("completed", started, self.history, self.notes, test_metrics=test_metrics,
                                      best_epoch=self.best.epoch, calibration=calibration, **finetune)
        train_state.clear(run)
        result = FitResult(run.id, run.path, self.config.spec.name, "completed", recipe.epochs, len(self.history),
                           self.history.to_dict(), test_metrics, manifest["duration_s"], self.best.epoch,
                           list(self.notes), name=self.config.name)
        self.progress.end(result)
        return result


__all__ = ["fit", "FitResult", "FitOptions", "UsageError"]
