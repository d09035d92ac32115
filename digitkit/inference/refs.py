"""What a user's MODEL argument means: the one resolver of model references.

In the order tried:

- a path: a run folder, or a ``.keras`` / ``.tflite`` file (inside a run folder or loose);
- ``<model>@pretrained``: the weights shipped for that model (:mod:`digitkit.pretrained`);
- a run id, or what names one (label, hash suffix, unique id prefix; :func:`digitkit.runs.find_run`);
- ``<model>``: the user's latest completed run of that model, else its shipped weights
  (with a one-line note saying so).

A run whose manifest cannot be read is skipped when looking for "the latest run of X": one
damaged run never breaks commands about other runs. :func:`read_manifest` is the one place
inference reads a run's manifest; :func:`run_input` the one place it reads the input spec.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from digitkit import runs
from digitkit.errors import ModelRefusedError, UnknownModelError
from digitkit.spec import InputSpec

PRETRAINED_SUFFIX = "@pretrained"
# Suffixes that make an argument a file path even when the file does not exist, so the
# user hears "missing file" rather than "unknown model".
MODEL_FILE_SUFFIXES = {".keras", ".h5", ".hdf5", ".tflite", ".pb", ".onnx", ".pt", ".pth", ".zip"}
RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[a-z0-9._-]+-[0-9a-f]{4}$")


@dataclass(frozen=True)
class ModelRef:
    """What a MODEL argument resolved to.

    Attributes:
        name: the model's name (a zoo name when known, else the file's stem).
        run: the run folder, when the model comes from one.
        keras_path: the ``.keras`` file, when there is one.
        tflite_path: the ``.tflite`` file, when there is one (not yet checked for staleness).
        pretrained: the weights shipped with digitkit.
        notes: lines for the user (e.g. "no run of cnn yet: using its pretrained weights").
        manifest: the run's manifest as read when resolving (a mapping), so nothing after
            the resolver reads it again.
    """

    name: str
    run: runs.Run | None = None
    keras_path: Path | None = None
    tflite_path: Path | None = None
    pretrained: bool = False
    notes: tuple[str, ...] = field(default=())
    manifest: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def with_notes(self, *notes: str) -> "ModelRef":
        """The same reference with more notes for the user."""
        return replace(self, notes=(*self.notes, *notes))

    @property
    def model_path(self) -> Path:
        """The file a user would name: the ``.keras`` file, else the ``.tflite`` one."""
        path = self.keras_path or self.tflite_path
        assert path is not None
        return path

    @property
    def label(self) -> str:
        """How messages name it: the run id, ``<name>@pretrained`` or the file name."""
        if self.run is not None:
            return self.run.id
        return f"{self.name}{PRETRAINED_SUFFIX}" if self.pretrained else self.model_path.name


def read_manifest(run: runs.Run) -> dict[str, Any]:
    """A run's validated manifest (:class:`digitkit.runs.Manifest`) as a mapping; the one place
    inference reads it.

    Raises:
        RunUnreadable: the manifest is missing, damaged or foreign (an ``InputError``, exit 3).
    """
    return run.load_manifest().to_dict()


def run_input(run: runs.Run, manifest: dict[str, Any] | None = None) -> tuple[InputSpec | None, str | None]:
    """The input spec and output kind a run's manifest declares (``None`` when it says nothing).

    Args:
        run: the run.
        manifest: its manifest, when the caller has read it already.

    Raises:
        ModelRefusedError: the manifest describes its input in a way that cannot be used.
    """
    meta = (manifest if manifest is not None else read_manifest(run)).get("spec")
    return declared_input(meta, where=f"run {run.id}: its manifest")


def pretrained_input(name: str) -> tuple[InputSpec | None, str | None]:
    """The input spec and output kind the shipped weights' model card declares.

    Read from the card, so shipped weights need no entry-point discovery to be used.
    """
    from digitkit import pretrained

    return declared_input(pretrained.card(name), where=f"{name}{PRETRAINED_SUFFIX}: its model card")


def declared_input(meta: Any, *, where: str) -> tuple[InputSpec | None, str | None]:
    """``(InputSpec, output kind)`` from a spec's metadata (``{"input": {...}, "output": ...}``).

    Raises:
        ModelRefusedError: the input is described in a way that cannot be used.
    """
    if not meta:
        return None, None
    try:
        raw = meta["input"]
        spec = InputSpec(image_size=int(raw["image_size"]), shape=tuple(int(d) for d in raw["shape"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelRefusedError(f"{where} has no usable input description ({exc!r})") from None
    output = meta.get("output")
    return spec, output if output in ("logits", "probabilities") else None


def latest_run_of(model_name: str, root: Path | None = None) -> runs.Run | None:
    """The newest completed run of a model with a model file, leaving out trial runs
    (``bench``, ``--quick``: :attr:`digitkit.runs.Manifest.trial`); unreadable runs are skipped."""
    wanted = model_name.lower()
    for run in reversed(runs.list_runs(root)):
        try:
            manifest = run.load_manifest()
        except runs.RunUnreadable:
            continue
        if manifest.model.lower() == wanted and manifest.completed and not manifest.trial \
                and run.model_path.exists():
            return run
    return None


def weaker_than_shipped(name: str, manifest: dict[str, Any]) -> str | None:
    """A one-line note when a run scores more than a point below the shipped weights of the same
    model on the same test set (full MNIST); ``None`` otherwise or when they cannot be compared."""
    from digitkit import pretrained

    if not pretrained.has(name):
        return None
    dataset = manifest.get("dataset") or {}
    if str(dataset.get("name", "")).lower() != "mnist" or dataset.get("test_limit") is not None:
        return None
    accuracy = (manifest.get("test_metrics") or {}).get("accuracy")
    shipped = pretrained.card(name).get("test_accuracy")
    if not isinstance(accuracy, (int, float)) or not isinstance(shipped, (int, float)) or accuracy >= shipped - 0.01:
        return None
    # One line of 80 columns with "note: " before it: what each scores, and how to pick the other.
    return f"your {name} run: {accuracy:.1%} on MNIST test; -m {name}{PRETRAINED_SUFFIX}: {shipped:.1%}"


def _of_run(run: runs.Run, name: str | None = None) -> ModelRef:
    manifest = read_manifest(run)
    tflite = run.file(runs.TFLITE)
    keras_path = run.model_path
    return ModelRef(name or str(manifest.get("model") or run.id), run,
                    keras_path if keras_path.exists() or not tflite.exists() else None,
                    tflite if tflite.exists() else None, manifest=manifest)


def _of_file(path: Path) -> ModelRef:
    run = runs.Run(path.parent.resolve()) if (path.parent / runs.MANIFEST).is_file() else None
    manifest = read_manifest(run) if run else None
    name = str(manifest.get("model") or path.stem) if manifest else path.stem
    if path.suffix.lower() == ".tflite":
        return ModelRef(name, run, None, path, manifest=manifest)
    return ModelRef(name, run, path, None, manifest=manifest)


def _pretrained(name: str, *, note: str | None = None) -> ModelRef | None:
    """The shipped weights of ``name``, or ``None`` when it has none."""
    from digitkit import pretrained

    keras_path, tflite_path = pretrained.path(name, "keras"), pretrained.path(name, "tflite")
    if keras_path is None and tflite_path is None:
        return None
    return ModelRef(name, None, keras_path, tflite_path, pretrained=True, notes=(note,) if note else ())


def resolve(ref: str, root: Path | None = None) -> ModelRef:
    """Resolve a MODEL argument (see the module docstring for what it may be).

    Raises:
        UnknownModelError: nothing answers to ``ref`` (with close-name suggestions).
        InputError: the run it names has a damaged manifest.
    """
    ref = os.fspath(ref)
    if not ref:
        raise UnknownModelError("expected a model: a run id, a model file, or a model name. Received: ''")
    path = Path(ref).expanduser()
    if path.is_dir() and (path / runs.MANIFEST).is_file():
        return _of_run(runs.Run(path.resolve()))
    if os.sep in ref or path.exists() or path.suffix.lower() in MODEL_FILE_SUFFIXES:
        if path.is_dir():
            if (path / "saved_model.pb").exists():
                from digitkit.modelfiles.keras_file import check_archive

                check_archive(path)  # refuses it with the reason (a SavedModel executes graph code)
            raise UnknownModelError(f"{ref} is a folder but not a digitkit run (no {runs.MANIFEST})")
        return _of_file(path)
    if ref.endswith(PRETRAINED_SUFFIX):
        return _resolve_pretrained(ref[: -len(PRETRAINED_SUFFIX)])
    run = runs.find_run(ref, root, by_model=False)
    if run is not None:
        return _of_run(run)
    run = latest_run_of(ref, root)
    if run is not None:
        chosen = _of_run(run)
        note = weaker_than_shipped(chosen.name, read_manifest(run))
        return ModelRef(chosen.name, run, chosen.keras_path, chosen.tflite_path, notes=(note,)) if note else chosen
    shipped = _pretrained(ref, note=f"no completed run of {ref} yet: using its pretrained weights")
    if shipped is not None:
        return shipped
    from digitkit.plugins import registry

    if registry.is_model(ref):
        name = registry.canonical_name(ref)
        raise UnknownModelError(f"model {name!r} has no completed run yet", hint=f"train one with `digitkit fit {name}`")
    if RUN_ID_PATTERN.match(ref):
        raise UnknownModelError(f"no run {ref!r}", hint="see `digitkit runs`")
    registry.get_model(ref)  # raises with close-name suggestions
    raise UnknownModelError(f"unknown model {ref!r}")  # pragma: no cover


def _resolve_pretrained(name: str) -> ModelRef:
    from digitkit import pretrained

    shipped = _pretrained(name)
    if shipped is None:
        names = ", ".join(pretrained.names()) or "none"
        raise UnknownModelError(f"no pretrained weights for {name!r} (shipped: {names})",
                                hint=f"train one with `digitkit fit {name}`")
    return shipped
