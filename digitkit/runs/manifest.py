"""A run's manifest: a typed, versioned record, read and validated in this one place.

``manifest.json`` says what was trained, how, on what data, with which versions, and how it
ended. :class:`Manifest` types the fields everything else relies on and keeps the rest
(``extra``) as written, so a newer field written by fit survives a rewrite by an older
reader of the same schema. Anything that cannot be a manifest (a JSON list, a string where
a number belongs, a schema from a newer digitkit) raises :class:`ManifestError`, which makes
that one run "unreadable" and nothing else.

Schema history:
    0: manifests written before the schema was versioned (no ``schema_version``); read as 1.
    1: ``schema_version`` added; ``name`` holds an optional user label (``fit --name``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from digitkit.errors import InputError

SCHEMA_VERSION = 1
# ``purpose`` of runs made to compare or try models, not to be used: bench writes "bench".
TRIAL_PURPOSES = ("bench", "quick")
# Statuses fit writes; others are kept (a newer fit may add one) but never count as complete.
STATUSES = ("running", "completed", "interrupted", "failed")
# Fields typed here; every other key is kept in ``extra`` untouched.
_TYPES: dict[str, tuple[type, ...]] = {
    "schema_version": (int,),
    "id": (str,),
    "model": (str,),
    "status": (str,),
    "name": (str, type(None)),
    "started": (str, type(None)),
    "ended": (str, type(None)),
    "dataset": (dict,),
    "spec": (dict, type(None)),
    "recipe": (dict,),
    "overrides": (dict,),
    "options": (dict,),
    "seed": (int, type(None)),
    "epochs_planned": (int, type(None)),
    "epochs_completed": (int,),
    "duration_s": (int, float, type(None)),
    "test_metrics": (dict, type(None)),
    "notes": (list,),
    "error": (str, type(None)),
    "calibration": (dict, type(None)),
}


class ManifestError(InputError):
    """A ``manifest.json`` that is not a manifest this digitkit can read."""


@dataclass
class Manifest:
    """The typed fields of ``manifest.json``; ``extra`` keeps the others (plugin, versions, ...).

    Attributes:
        id: the run id (the folder name when written).
        model: registry name of the model trained.
        status: ``running``, ``completed``, ``interrupted`` or ``failed``.
        name: the user's label for the run (``fit --name``), or ``None``.
        dataset: what fit trained on (``name``, ``source``, sizes, fingerprint, ``requested``).
        schema_version: the schema this manifest follows (:data:`SCHEMA_VERSION` when written).
    """

    id: str
    model: str
    status: str = "running"
    name: str | None = None
    started: str | None = None
    ended: str | None = None
    dataset: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    epochs_planned: int | None = None
    epochs_completed: int = 0
    duration_s: float | None = None
    test_metrics: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> "Manifest":
        """Validate what ``manifest.json`` holds and type it.

        Raises:
            ManifestError: saying what is wrong, in words a user can act on.
        """
        problem = manifest_problem(data)
        if problem:
            raise ManifestError(problem)
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        typed = {k: v for k, v in data.items() if k in known}
        typed["schema_version"] = data.get("schema_version", 0) or SCHEMA_VERSION
        manifest = cls(**typed, extra={k: v for k, v in data.items() if k not in known})
        manifest.dataset = _truthful_dataset(manifest.dataset)
        return manifest

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to ``manifest.json`` (``extra`` merged back at the top level)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**self.extra, **data}

    def updated(self, **fields: Any) -> "Manifest":
        """A copy with ``fields`` changed, validated as a whole."""
        return Manifest.from_dict({**self.to_dict(), **fields})

    @property
    def trained_on(self) -> str | None:
        """The name of the data this run really trained on (``sample`` after a fallback)."""
        name = self.dataset.get("name")
        return name if isinstance(name, str) else None

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @property
    def trial(self) -> bool:
        """A run made to compare or try models (``bench``, ``--quick``): it never becomes what
        a bare model name means (see :mod:`digitkit.inference.refs`)."""
        return self.extra.get("purpose") in TRIAL_PURPOSES or self.extra.get("quick") is True


def manifest_problem(data: Any) -> str | None:
    """Why ``data`` is not a readable manifest, or ``None`` when it is."""
    if not isinstance(data, dict):
        return f"manifest.json holds a JSON {type(data).__name__}, not an object"
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        return f"manifest.json has schema_version {version!r}, not a version number"
    if version > SCHEMA_VERSION:
        return (f"manifest.json follows schema {version}, written by a newer digitkit "
                f"(this one reads up to {SCHEMA_VERSION}); upgrade digitkit")
    for key in ("id", "model"):
        if key not in data:
            return f"manifest.json has no {key!r}"
    for key, types in _TYPES.items():
        if key in data and not _typed(data[key], types):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            return f"manifest.json field {key!r} should be {expected}, found {type(data[key]).__name__}"
    if not data["model"] or not data["id"]:
        return "manifest.json has an empty 'id' or 'model'"
    if not all(isinstance(note, str) for note in data.get("notes", [])):
        return "manifest.json field 'notes' should hold strings"
    test = data.get("test_metrics") or {}
    if not all(_typed(v, (int, float)) for v in test.values()):
        return "manifest.json field 'test_metrics' should hold numbers"
    return None


def _typed(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # bool is an int to Python, never to a manifest
        return bool in types
    if float in types and isinstance(value, int):
        return True
    return isinstance(value, types)


def _truthful_dataset(dataset: dict[str, Any]) -> dict[str, Any]:
    """Name the bundled sample ``sample`` even where fit recorded the dataset it fell back from.

    Runs trained offline on the default dataset recorded ``name: mnist`` with a ``bundled``
    source; listings and reports must not call that MNIST.
    """
    if "bundled" in str(dataset.get("source", "")) and dataset.get("name") != "sample":
        return {**dataset, "name": "sample"}
    return dataset
