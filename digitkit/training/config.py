"""What a fit computes, decided before any TensorFlow work: recipe, overrides, seed, options.

A new fit takes the model's recipe and the caller's overrides; a resumed fit takes
everything from the run's manifest (only the planned epochs may grow).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitkit import registry, runs
from digitkit.errors import UsageError
from digitkit.spec import ModelSpec, Recipe
from digitkit.training import state as train_state

DEFAULT_PATIENCE = 3


@dataclass
class FitConfig:
    """Everything that decides what a fit computes (recorded in the manifest)."""

    spec: ModelSpec
    recipe: Recipe
    overrides: dict[str, Any]
    seed: int
    dataset: str | None
    train_size: int | None
    test_size: int | None
    options: dict[str, Any]


RECIPE_FLAGS = ("epochs", "batch_size", "learning_rate", "validation_split")
OPTION_FLAGS = ("early_stopping", "patience", "augment", "gpu", "devices", "mixed_precision")


def new_config(model_name: str | None, args: dict[str, Any]) -> FitConfig:
    if not model_name:
        raise UsageError("expected a model name (see `digitkit list-models`) or --resume RUN")
    spec = registry.get_spec(model_name)
    overrides = {k: args[k] for k in RECIPE_FLAGS if args[k] is not None}
    try:
        recipe = spec.recipe.replace(**overrides)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    for name in ("train_size", "test_size", "patience"):
        if args[name] is not None and args[name] < 1:
            raise UsageError(f"expected {name} >= 1. Received: {name}={args[name]}")
    seed = args["seed"] if args["seed"] is not None else secrets.randbelow(2**31)
    options = {k: args[k] for k in OPTION_FLAGS}
    options["patience"] = args["patience"] or DEFAULT_PATIENCE
    return FitConfig(spec, recipe, overrides, int(seed), args["dataset"], args["train_size"], args["test_size"],
                     options)


def find_run(ref: str) -> runs.Run:
    path = Path(ref).expanduser()
    if path.is_dir() and (path / runs.MANIFEST).is_file():
        return runs.Run(path.resolve())
    return runs.get_run(ref)


def resume_config(ref: str, model_name: str | None, args: dict[str, Any]) -> tuple[runs.Run, FitConfig]:
    changed = [k for k in (*RECIPE_FLAGS[1:], "seed", "dataset", "train_size", "test_size", "patience")
               if args[k] is not None]
    changed += [k for k in ("early_stopping", "augment", "mixed_precision") if args[k]]
    if changed:
        flags = ", ".join("--" + k.replace("_", "-") for k in changed)
        raise UsageError(f"--resume continues a run with its own settings; cannot change {flags}",
                         hint="only --epochs may raise the planned epochs")
    run = find_run(ref)
    manifest = run.manifest
    if manifest.get("status") == "completed":
        raise UsageError(f"run {run.id} already completed", hint="start a new run with `digitkit fit`")
    if model_name and model_name != manifest.get("model"):
        raise UsageError(f"run {run.id} trains {manifest.get('model')!r}, not {model_name!r}")
    train_state.load_info(run)  # refuses runs without state
    spec = registry.get_spec(manifest["model"])
    recipe_fields = {k: v for k, v in manifest["recipe"].items() if k != "label_encoding"}
    recipe = Recipe(**recipe_fields)
    overrides = dict(manifest.get("overrides", {}))
    if args["epochs"] is not None:
        if args["epochs"] < manifest.get("epochs_completed", 0):
            raise UsageError(f"run {run.id} already has {manifest.get('epochs_completed')} epochs")
        recipe = recipe.replace(epochs=args["epochs"])
        overrides["epochs"] = args["epochs"]
    options = dict(manifest.get("options", {}))
    options.update(gpu=args["gpu"] or options.get("gpu", False),
                   devices=args["devices"] if args["devices"] is not None else options.get("devices"))
    data = manifest.get("dataset", {})
    return run, FitConfig(spec, recipe, overrides, int(manifest["seed"]), data.get("requested"),
                          data.get("train_limit"), data.get("test_limit"), options)
