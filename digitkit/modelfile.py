"""Saving and loading Keras model files safely.

Saving goes through :mod:`digitkit.atomic` (Keras writes in place and may prompt).
Loading checks the file before Keras sees it (Keras reports a corrupt archive as "File
not found") and always keeps ``safe_mode=True``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from digitkit import atomic
from digitkit.errors import ModelRefusedError

REQUIRED_MEMBERS = ("config.json", "model.weights.h5")
REFUSED_FORMATS = {
    ".h5": "legacy HDF5 models can carry arbitrary code; re-save it as .keras with Keras 3",
    ".hdf5": "legacy HDF5 models can carry arbitrary code; re-save it as .keras with Keras 3",
    ".pb": "TensorFlow SavedModels execute graph code; export a .keras file instead",
    ".pkl": "pickle files execute arbitrary code when loaded",
    ".pickle": "pickle files execute arbitrary code when loaded",
}


def save_model(model: Any, target: str | Path) -> Path:
    """Atomically save a Keras model as ``target`` (a ``.keras`` path)."""
    import keras

    target = Path(target)
    with atomic.atomic_path(target, suffix=".keras") as temp:
        keras.saving.save_model(model, temp, overwrite=True)
    return target


def check_archive(path: str | Path) -> Path:
    """Refuse anything that is not a complete ``.keras`` archive, saying why.

    Raises:
        ModelRefusedError: missing, empty, truncated, not a zip, wrong format.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise ModelRefusedError(f"{path} is a TensorFlow SavedModel: {REFUSED_FORMATS['.pb']}")
        raise ModelRefusedError(f"{path} is a folder, not a .keras model file")
    if not path.exists():
        raise ModelRefusedError(f"model file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in REFUSED_FORMATS:
        raise ModelRefusedError(f"{path.name}: refused, {REFUSED_FORMATS[suffix]}")
    if suffix != ".keras":
        raise ModelRefusedError(f"{path.name}: expected a .keras model file (Keras 3 format)")
    if path.stat().st_size == 0:
        raise ModelRefusedError(f"{path} is empty (0 bytes)")
    if not zipfile.is_zipfile(path):
        raise ModelRefusedError(f"{path} is not a .keras archive (not a zip file; truncated or another format)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelRefusedError(f"{path} is a damaged .keras archive: {exc}") from exc
    if bad is not None:
        raise ModelRefusedError(f"{path} is a damaged .keras archive: member {bad!r} fails its checksum")
    missing = [m for m in REQUIRED_MEMBERS if m not in names]
    if missing:
        raise ModelRefusedError(f"{path} is not a complete .keras archive (missing {', '.join(missing)})")
    return path


def load_model(path: str | Path, *, compile: bool = False) -> Any:
    """Load a ``.keras`` file in safe mode after checking it.

    Raises:
        ModelRefusedError: the file is refused or Keras cannot load it.
    """
    path = check_archive(path)
    import keras

    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a bad file; the user needs one line
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelRefusedError(f"{path.name}: Keras refused to load it: {message[:300]}") from exc
