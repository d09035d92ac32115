"""What a fit writes into its run directory: the manifest, the models, the ending."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from digitkit import home, runs
from digitkit.plugins import registry
from digitkit.training.config import FitConfig
from digitkit.training.history import History


def manifest_fields(config: FitConfig, data: Any, placement: Any, speed: Any) -> dict[str, Any]:
    """The first manifest of a new run (``runs.create_run`` adds id, model, status, start)."""
    from digitkit._internal import environment

    provider = registry.get_model(config.spec.name).provider
    return {
        "name": config.name,
        "plugin": {"distribution": provider.distribution, "version": provider.version},
        "spec": config.spec.metadata(), "recipe": config.recipe.to_dict(), "overrides": config.overrides,
        "options": config.options, "seed": config.seed, "dataset": data.manifest_fields(config),
        "versions": environment.library_versions(), "machine": environment.machine(),
        "placement": placement.describe(), "speed": speed.to_dict(),
        "epochs_planned": config.recipe.epochs, "epochs_completed": 0, "test_metrics": None,
        **({"parent": config.finetune.parent} if config.finetune is not None else {}),
    }


class RunWriter:
    """Writes the run's later files; counts training time across resumes."""

    def __init__(self, run: runs.Run, previous_seconds: float = 0.0) -> None:
        self.run = run
        self.previous_seconds = previous_seconds

    def finish(self, status: str, started: float, history: History, notes: list[str], **fields: Any) -> dict[str, Any]:
        """Final manifest fields for ``status`` (completed, interrupted, failed)."""
        duration = self.previous_seconds + time.perf_counter() - started
        self.previous_seconds = duration
        return self.run.update_manifest(status=status, ended=runs.now_iso(), duration_s=round(duration, 3),
                                        epochs_completed=len(history), notes=notes, **fields)

    def resume_command(self) -> str:
        default_root = Path(home.runs_dir()).expanduser().resolve()
        target = self.run.id if self.run.path.parent.resolve() == default_root else str(self.run.path)
        return f"digitkit fit --resume {target}"

    def save_models(self, model: Any, best_weights: Any, stopped_early: bool) -> list[str]:
        """model.keras, model.tflite, best.keras; returns notes (a failed LiteRT export)."""
        from digitkit.modelfiles.keras_file import save_model
        save_model(model, self.run.model_path)
        notes = self._export_litert(model)
        if best_weights is not None and not stopped_early:
            model.set_weights(best_weights)
        if best_weights is not None:
            save_model(model, self.run.file(runs.BEST))
        return notes

    def _export_litert(self, model: Any) -> list[str]:
        """model.tflite beside model.keras; a failure here is a note, never a failed fit."""
        from digitkit._internal.quiet import quiet_native_stderr

        try:
            from digitkit.exporting import export_litert
        except ImportError:
            return ["LiteRT export not available in this version: no model.tflite"]
        try:
            with quiet_native_stderr():  # the converter logs from C++
                export_litert(model, self.run.file(runs.TFLITE))
        except Exception as exc:  # any exporter failure must leave the trained run intact
            return [f"LiteRT export failed: {type(exc).__name__}: {str(exc)[:200]}"]
        return []
