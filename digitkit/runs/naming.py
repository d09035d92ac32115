"""What a user may type to name a run, and what a MODEL argument resolves to.

A run answers to, in this order (the first form that matches wins):

1. its full id (``20260101-120000-cnn-1a2b``);
2. its label, the manifest field ``name`` (``fit --name baseline``), case-insensitive;
3. the short hash that ends its id (``1a2b``);
4. a unique prefix of its id (``20260101-12``);
5. a model name, case-insensitive: that model's latest run.

An empty name, or a prefix or label that several runs share, is refused with the
candidates listed, so ``runs rm`` can never pick a run the user did not mean.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from digitkit.errors import UnknownModelError, UsageError
from digitkit.runs import files
from digitkit.runs.directory import RUN_ID_PATTERN, Run, RunUnreadable
from digitkit.runs.listing import latest_run_of, list_runs

# Suffixes that make an argument a file path even when the file does not exist, so the
# user hears "missing file" rather than "unknown model".
MODEL_FILE_SUFFIXES = {".keras", ".h5", ".hdf5", ".tflite", ".pb", ".onnx", ".pt", ".pth", ".zip"}
MAX_LISTED = 5


def _label(run: Run) -> str | None:
    try:
        return run.load_manifest().name
    except RunUnreadable:
        return None


def _ambiguous(ref: str, kind: str, matches: list[Run]) -> UsageError:
    listed = ", ".join(r.id for r in matches[:MAX_LISTED])
    more = f" and {len(matches) - MAX_LISTED} more" if len(matches) > MAX_LISTED else ""
    return UsageError(f"{kind} {ref!r} matches {len(matches)} runs: {listed}{more}",
                      hint="give more of the id, or the full id")


def find_run(ref: str, root: Path | None = None, *, by_model: bool = True) -> Run | None:
    """The run ``ref`` names (see the module docstring), or ``None`` when nothing answers.

    Args:
        ref: what the user typed.
        root: the folder holding runs (default: the home's).
        by_model: also accept a model name (its latest run, of any status).

    Raises:
        UsageError: ``ref`` is empty, or it is a label, hash or prefix several runs share.
    """
    ref = ref.strip()
    if not ref:
        raise UsageError("an empty run id names no run (an empty prefix would match every run)",
                         hint="see `digitkit runs` for ids")
    runs = list_runs(root)
    exact = [r for r in runs if r.id == ref]
    if exact:
        return exact[0]
    labelled = [r for r in runs if (_label(r) or "").lower() == ref.lower()]
    if len(labelled) > 1:
        raise _ambiguous(ref, "label", labelled)
    if labelled:
        return labelled[0]
    hashed = [r for r in runs if r.suffix == ref.lower()] if len(ref) >= 3 else []
    if len(hashed) > 1:
        raise _ambiguous(ref, "hash", hashed)
    if hashed:
        return hashed[0]
    prefixed = [r for r in runs if r.id.startswith(ref)]
    if len(prefixed) > 1:
        raise _ambiguous(ref, "run id prefix", prefixed)
    if prefixed:
        return prefixed[0]
    if by_model:
        return latest_run_of(ref, root, completed=False)
    return None


def get_run(ref: str, root: Path | None = None) -> Run:
    """The run ``ref`` names: id, label, hash suffix, unique id prefix or model name.

    Raises:
        UsageError: nothing answers, ``ref`` is empty, or it is ambiguous (candidates listed).
    """
    run = find_run(ref, root)
    if run is None:
        raise UsageError(f"no run {ref!r}", hint="see `digitkit runs` for ids, labels and models")
    return run


@dataclass(frozen=True)
class ModelRef:
    """What a user's MODEL argument resolved to."""

    model_path: Path
    run: Run | None
    model_name: str | None


def _model_of(run: Run) -> str:
    """The model a run trained, raising the run's one-line "unreadable" error when it cannot say."""
    return run.load_manifest().model


def resolve_model(ref: str, root: Path | None = None) -> ModelRef:
    """Resolve a path (``.keras`` file or run folder), a run name, or a model name.

    A model name means the latest completed run of that model (case-insensitive).

    Raises:
        UnknownModelError: nothing answers to ``ref``; close model names are suggested.
        RunUnreadable: ``ref`` names one run whose manifest is damaged.
    """
    if not ref.strip():
        raise UsageError("an empty model name names nothing", hint="give a model, a run id or a file")
    path = Path(ref).expanduser()
    if path.is_dir() and (path / files.MANIFEST).is_file():
        run = Run(path.resolve())
        return ModelRef(run.model_path, run, _model_of(run))
    if os.sep in ref or path.exists() or path.suffix.lower() in MODEL_FILE_SUFFIXES:
        if path.is_dir():
            if (path / "saved_model.pb").exists():
                from digitkit.modelfile import check_archive

                check_archive(path)  # refuses it with the reason (a SavedModel executes graph code)
            raise UnknownModelError(f"{ref} is a folder but not a digitkit run (no {files.MANIFEST})")
        run = Run(path.parent.resolve()) if (path.parent / files.MANIFEST).is_file() else None
        return ModelRef(path, run, _model_of(run) if run else None)
    run = find_run(ref, root, by_model=False)
    if run is not None:
        return ModelRef(run.model_path, run, _model_of(run))
    run = latest_run_of(ref, root)
    if run is not None:
        return ModelRef(run.model_path, run, _model_of(run))
    from digitkit import registry

    if registry.is_model(ref):
        name = registry.canonical_name(ref)
        raise UnknownModelError(f"model {name!r} has no completed run yet",
                                hint=f"train one with `digitkit fit {name}`")
    if RUN_ID_PATTERN.match(ref):
        raise UnknownModelError(f"no run {ref!r}", hint="see `digitkit runs`")
    registry.get_model(ref)  # raises with close-name suggestions
    raise UnknownModelError(f"unknown model {ref!r}")  # pragma: no cover
