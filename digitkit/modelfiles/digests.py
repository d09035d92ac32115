"""SHA-256 digests of a run's model files, recorded at export and checked on load.

``model.tflite`` is made from ``model.keras``; recording both digests when the ``.tflite``
is written lets a later load tell "this .tflite is the export of this .keras" from "one of
them was replaced since" (a retrained model, a copied-in file), without trusting mtimes.
"""

from __future__ import annotations


from digitkit import runs
from digitkit._internal.hashing import sha256  # noqa: F401 (re-exported: digests.sha256)

FIELD = "digests"  # manifest field: {"model.keras": "sha256:...", "model.tflite": "sha256:..."}


def record(run: runs.Run) -> dict[str, str]:
    """Write the digests of the run's model files into its manifest; returns them."""
    digests = {name: sha256(run.file(name)) for name in (runs.MODEL, runs.TFLITE) if run.file(name).is_file()}
    run.load_manifest()  # a damaged manifest is reported, not overwritten
    run.update_manifest(**{FIELD: digests})
    return digests


def pair_state(run: runs.Run, manifest: dict) -> str:
    """How the run's ``model.tflite`` relates to its ``model.keras``.

    Returns:
        ``"same"`` (both files are what was recorded at export), ``"stale"`` (model.keras
        changed since the export), ``"replaced"`` (model.tflite is not the file that was
        exported), or ``"unknown"`` (no digests recorded: an older run).
    """
    recorded = manifest.get(FIELD)
    tflite, keras_file = run.file(runs.TFLITE), run.file(runs.MODEL)
    if not isinstance(recorded, dict) or runs.TFLITE not in recorded:
        return "unknown"
    if sha256(tflite) != recorded.get(runs.TFLITE):
        return "replaced"
    if keras_file.is_file() and recorded.get(runs.MODEL) and sha256(keras_file) != recorded[runs.MODEL]:
        return "stale"
    return "same"
