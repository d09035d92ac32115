"""What a fit computes, decided before any TensorFlow work: recipe, overrides, seed, options.

A new fit takes the model's recipe and the caller's overrides; a resumed fit takes
everything from the run's manifest (only the planned epochs may grow), after checking
that the manifest and the saved state can really be resumed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitkit import runs
from digitkit.plugins import registry
from digitkit.errors import DigitkitError, InputError, UsageError
from digitkit.spec import ModelSpec, Recipe
from digitkit.training import state as train_state
from digitkit.training.options import DEFAULT_PATIENCE, FitOptions


@dataclass(frozen=True)
class FitConfig:
    """Everything that decides what a fit computes (recorded in the manifest).

    ``options`` is the manifest's ``options`` record: the flags beyond the recipe.
    """

    spec: ModelSpec
    recipe: Recipe
    overrides: dict[str, Any]
    seed: int
    dataset: str | None
    train_size: int | None
    test_size: int | None
    early_stopping: bool
    patience: int
    augment: bool
    gpu: bool
    devices: int | str | None
    mixed_precision: bool
    deterministic: bool
    name: str | None = None
    finetune: Any = None  # a digitkit.training.finetune.FineTune with --init-from, else None
    # The --dataset string as FitOptions.check resolved it, so the loader does not resolve it again.
    dataset_ref: Any = field(default=None, repr=False, compare=False)

    @property
    def options(self) -> dict[str, Any]:
        return {"early_stopping": self.early_stopping, "patience": self.patience, "augment": self.augment,
                "gpu": self.gpu, "devices": self.devices, "mixed_precision": self.mixed_precision,
                "deterministic": self.deterministic, **(self.finetune.options() if self.finetune else {})}


def new_config(options: FitOptions) -> FitConfig:
    """The config of a new fit (``options`` already checked)."""
    spec = registry.get_spec(options.model or "")
    overrides = options.overrides()
    try:
        recipe = spec.recipe.replace(**overrides)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    config = FitConfig(spec, recipe, overrides, int(seed), options.dataset, options.train_size, options.test_size,
                       options.early_stopping, options.patience or DEFAULT_PATIENCE, options.augment, options.gpu,
                       options.devices, options.mixed_precision, options.deterministic, options.name,
                       dataset_ref=options.dataset_ref)
    if options.init_from is not None:  # a few-example recipe where the caller left the choice open
        from digitkit.training.finetune import few_example_config

        config = few_example_config(config, options)
    return config


def find_run(ref: str) -> runs.Run:
    path = Path(ref).expanduser()
    if path.is_dir() and (path / runs.MANIFEST).is_file():
        return runs.Run(path.resolve())
    return runs.get_run(ref)


def start_over_hint(run: runs.Run, model: Any) -> str:
    what = f"digitkit fit {model}" if isinstance(model, str) and model else "digitkit fit MODEL"
    return f"start over with `{what}`; remove the damaged run with `digitkit runs rm {run.id}`"


RECIPE_KEYS = ("optimizer", "learning_rate", "loss", "batch_size", "epochs", "validation_split")


def _resumable_manifest(run: runs.Run) -> dict[str, Any]:
    """The manifest as written (no defaults filled in), refused with one line when a resume
    could not trust it: a resumed run must continue with exactly the recipe it started with."""
    try:
        run.manifest  # the runs package's own validation (types, schema version)
        manifest = runs.read_json(run.path / runs.MANIFEST)
    except DigitkitError as exc:
        raise InputError(f"run {run.id} cannot be resumed: {exc.message}", hint=start_over_hint(run, None)) from exc
    if not isinstance(manifest, dict):
        raise InputError(f"run {run.id} cannot be resumed: its manifest.json is not a JSON object",
                         hint=start_over_hint(run, None))
    expected = {"model": str, "recipe": dict, "seed": int}
    for key, kind in expected.items():
        if not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool):
            raise InputError(f"run {run.id} cannot be resumed: its manifest.json has no valid {key!r}",
                             hint=start_over_hint(run, manifest.get("model")))
    missing = [k for k in RECIPE_KEYS if k not in manifest["recipe"]]
    try:
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        Recipe(**{k: v for k, v in manifest["recipe"].items() if k != "label_encoding"})
    except (TypeError, ValueError) as exc:
        raise InputError(f"run {run.id} cannot be resumed: its manifest.json holds a bad recipe ({exc})",
                         hint=start_over_hint(run, manifest["model"])) from exc
    return manifest


def resume_config(options: FitOptions, run: runs.Run) -> tuple[runs.Run, FitConfig]:
    """The config to continue ``run`` with, from its manifest (``options`` already checked;
    the caller holds the run's lock, so the state checked here stays as it is).

    Raises:
        UsageError: a completed run, another model, fewer epochs than done.
        InputError: a damaged manifest, state.json or checkpoint.npz (how to start over).
    """
    manifest = _resumable_manifest(run)
    if manifest.get("status") == "completed":
        raise UsageError(f"run {run.id} already completed", hint="start a new run with `digitkit fit`")
    if options.model and options.model != manifest["model"]:
        raise UsageError(f"run {run.id} trains {manifest['model']!r}, not {options.model!r}")
    try:
        train_state.check(run)
    except InputError as exc:
        raise InputError(exc.message, hint=start_over_hint(run, manifest["model"])) from exc
    spec = registry.get_spec(manifest["model"])
    recipe = Recipe(**{k: v for k, v in manifest["recipe"].items() if k != "label_encoding"})
    overrides = dict(manifest.get("overrides") or {})
    done = int(manifest.get("epochs_completed") or 0)
    if options.epochs is not None:
        if options.epochs < done:
            raise UsageError(f"run {run.id} already has {done} epochs")
        recipe = recipe.replace(epochs=options.epochs)
        overrides["epochs"] = options.epochs
    saved = manifest.get("options") if isinstance(manifest.get("options"), dict) else {}
    data = manifest.get("dataset") if isinstance(manifest.get("dataset"), dict) else {}
    return run, FitConfig(
        spec, recipe, overrides, int(manifest["seed"]), data.get("requested"), data.get("train_limit"),
        data.get("test_limit"), bool(saved.get("early_stopping")), int(saved.get("patience") or DEFAULT_PATIENCE),
        bool(saved.get("augment")), options.gpu or bool(saved.get("gpu")),
        options.devices if options.devices is not None else saved.get("devices"),
        bool(saved.get("mixed_precision")), options.deterministic or bool(saved.get("deterministic")),
        manifest.get("name") if isinstance(manifest.get("name"), str) else None, finetune=_saved_finetune(saved))


def _saved_finetune(saved: dict[str, Any]) -> Any:
    """A resumed fine-tune keeps its replay (its weights come from the saved state)."""
    if not saved.get("init_from"):
        return None
    from digitkit.training.finetune import FineTune

    return FineTune.from_options(saved)
