"""Saving and loading Keras model files safely.

Saving goes through :mod:`digitkit._internal.atomic` (Keras writes in place and may prompt).
Loading checks the file before Keras sees it, in this order (docs/security.md):

1. the path: it exists, is a file, is named ``.keras`` (HDF5, SavedModel and pickle
   formats are refused with the reason);
2. the bytes: not empty, a complete zip archive (Keras reports a corrupt archive as "File
   not found"; digitkit says what is really wrong);
3. the archive's shape: member count, declared uncompressed sizes (zip bombs), member
   names (no absolute paths or ``..``), member checksums;
4. ``config.json``: under a size cap, valid JSON, and every serialised object in it passes
   the trust policy (:mod:`digitkit.modelfiles.trust`: Keras' classes, digitkit's layers, classes a
   loaded and conforming plugin declares; no ``Lambda`` layer, no serialised function
   outside Keras' activation/loss/metric/initializer modules);
5. the weights: each layer's declared weights match the shapes stored in
   ``model.weights.h5`` and the parameter count is under a cap
   (:mod:`digitkit.modelfiles.weights`), so Keras never builds what the file cannot hold.

Only then is Keras called, always with ``safe_mode=True``.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from digitkit._internal import atomic
from digitkit.modelfiles import configwalk, trust
from digitkit.errors import ModelRefusedError, printable

REQUIRED_MEMBERS = ("config.json", "model.weights.h5")
REFUSED_FORMATS = {
    ".h5": "legacy HDF5 models can carry arbitrary code; re-save it as .keras with Keras 3",
    ".hdf5": "legacy HDF5 models can carry arbitrary code; re-save it as .keras with Keras 3",
    ".pb": "TensorFlow SavedModels execute graph code; export a .keras file instead",
    ".pkl": "pickle files execute arbitrary code when loaded",
    ".pickle": "pickle files execute arbitrary code when loaded",
}

# A digit model is small (the zoo's largest is ~270k parameters, about 1 MB); these caps
# leave room for plugins of a few hundred million parameters and refuse archives that
# would fill memory or disk when unpacked.
MAX_MEMBERS = 256
MAX_UNCOMPRESSED_BYTES = 1 << 30  # 1 GiB, summed over members as the archive declares them
MAX_COMPRESSION_RATIO = 200  # for members over 1 MiB; Keras' own files compress far less
MAX_CONFIG_BYTES = 4 << 20  # 4 MiB of JSON describes thousands of layers
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"


def save_model(model: Any, target: str | Path) -> Path:
    """Atomically save a Keras model as ``target`` (a ``.keras`` path).

    Raises:
        DigitkitError: the folder is not writable or the disk is full; the previous file,
            if any, is unchanged and no temp file is left.
    """
    import keras

    target = Path(target)
    with atomic.atomic_path(target, suffix=".keras") as temp:
        keras.saving.save_model(model, temp, overwrite=True)
    return target


def _name(path: Path) -> str:
    return printable(str(path))


def _check_path(path: Path) -> None:
    """Refuse folders, missing files and formats other than ``.keras``."""
    if path.is_dir():
        if (path / "saved_model.pb").exists() or (path / "saved_model.pbtxt").exists():
            raise ModelRefusedError(f"{_name(path)} is a TensorFlow SavedModel: refused, {REFUSED_FORMATS['.pb']}")
        raise ModelRefusedError(f"{_name(path)} is a folder, not a .keras model file")
    if not path.exists():
        raise ModelRefusedError(f"model file {_name(path)} does not exist", hint="check the path or see `digitkit runs`")
    if not path.is_file():
        raise ModelRefusedError(f"{_name(path)} is not a regular file")
    suffix = path.suffix.lower()
    if suffix in REFUSED_FORMATS:
        raise ModelRefusedError(f"{_name(path.name)}: refused, {REFUSED_FORMATS[suffix]}")
    if suffix != ".keras":
        raise ModelRefusedError(f"{_name(path.name)}: expected a .keras model file (Keras 3 format)")


def _check_bytes(path: Path) -> None:
    """Refuse empty files and files that are not complete zip archives, saying what they are."""
    size = path.stat().st_size
    if size == 0:
        raise ModelRefusedError(f"{_name(path)} is empty (0 bytes)", hint="the save that wrote it did not finish")
    with open(path, "rb") as handle:
        head = handle.read(512)
    if zipfile.is_zipfile(path):
        return
    if head.startswith(_HDF5_MAGIC):
        raise ModelRefusedError(f"{_name(path)} is a legacy HDF5 model named .keras: refused, {REFUSED_FORMATS['.h5']}")
    if head.startswith(_ZIP_MAGIC):
        raise ModelRefusedError(
            f"{_name(path)} is truncated or damaged: it starts like a .keras (zip) archive but its "
            f"end is missing ({size:,} bytes)", hint="save or download it again")
    if _looks_like_text(head):
        kind = "an HTML page" if b"<html" in head.lower() or b"<!doctype" in head.lower() else "a text file"
        raise ModelRefusedError(f"{_name(path)} is not a .keras archive: it is {kind}",
                                hint="a failed download often saves an error page")
    raise ModelRefusedError(f"{_name(path)} is not a .keras archive (not a zip file)")


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unsafe_member_name(name: str) -> bool:
    """True for names that would land outside the folder they are extracted into."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return ".." in PurePosixPath(name).parts


def _check_members(path: Path, archive: zipfile.ZipFile) -> None:
    """Member count, names and declared sizes: checked before anything is decompressed."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ModelRefusedError(f"{_name(path)} has {len(members):,} members; a .keras model has a handful "
                                f"(limit {MAX_MEMBERS})")
    for info in members:
        if _unsafe_member_name(info.filename):
            raise ModelRefusedError(f"{_name(path)} has a member named {printable(repr(info.filename))} that points "
                                    "outside the archive (path traversal): refused")
    total = sum(info.file_size for info in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ModelRefusedError(f"{_name(path)} would unpack to {total / 2**20:,.0f} MiB, over digitkit's limit of "
                                f"{MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MiB (zip bomb?): refused")
    for info in members:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > MAX_COMPRESSION_RATIO:
            raise ModelRefusedError(f"{_name(path)}: member {printable(repr(info.filename))} expands {ratio:,.0f} "
                                    f"times when unpacked (zip bomb?): refused")
    names = {info.filename for info in members}
    missing = [m for m in REQUIRED_MEMBERS if m not in names]
    if missing:
        raise ModelRefusedError(f"{_name(path)} is not a complete .keras archive (missing {', '.join(missing)})")
    config = archive.getinfo("config.json")
    if config.file_size > MAX_CONFIG_BYTES:
        raise ModelRefusedError(f"{_name(path)}: config.json is {config.file_size / 2**20:,.1f} MiB, over the "
                                f"{MAX_CONFIG_BYTES >> 20} MiB limit: refused")


def _read_config(path: Path, archive: zipfile.ZipFile) -> Any:
    with archive.open("config.json") as handle:
        raw = handle.read(MAX_CONFIG_BYTES + 1)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelRefusedError(f"{_name(path)}: config.json is over the {MAX_CONFIG_BYTES >> 20} MiB limit: refused")
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelRefusedError(f"{_name(path)}: config.json is not valid JSON ({printable(str(exc))[:120]})") from exc
    if not isinstance(config, dict):
        raise ModelRefusedError(f"{_name(path)}: config.json does not describe a Keras model")
    return config


def check_archive(path: str | Path) -> Path:
    """Refuse anything that is not a complete, plausible and safe ``.keras`` archive, saying why.

    Nothing in the file is deserialised: members are listed, checksummed and
    ``config.json`` is parsed as plain JSON and checked against the trust policy
    (:meth:`digitkit.modelfiles.trust.Policy.check_config`).

    Returns:
        The path, for chaining.

    Raises:
        ModelRefusedError: missing, empty, truncated, not a zip, wrong format, too large,
            unsafe member names, or a config naming code digitkit does not trust.
    """
    return _checked(path)[0]


def _checked(path: str | Path) -> tuple[Path, dict[str, Any], trust.Policy]:
    """:func:`check_archive`, also returning the parsed config and the trust policy applied."""
    path = Path(path)
    _check_path(path)
    _check_bytes(path)
    try:
        with zipfile.ZipFile(path) as archive:
            _check_members(path, archive)
            bad = archive.testzip()
            if bad is not None:
                raise ModelRefusedError(f"{_name(path)} is a damaged .keras archive: member {printable(repr(bad))} "
                                        "fails its checksum")
            config = _read_config(path, archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ModelRefusedError(f"{_name(path)} is a damaged .keras archive: {printable(str(exc))[:200]}") from exc
    policy = trust.check_config(config, where=_name(path.name))
    _check_weights(path, config)
    return path, config, policy


def _register_declared_layers(config: dict[str, Any], policy: trust.Policy) -> None:
    """Import the modules of the trusted custom classes the config names, registering them with Keras.

    The classes come from specs' ``trusted_classes`` (already checked against the policy), so
    the gate needs no list of model code of its own: cnn-best's augmentation layer and a
    plugin's layers are found the same way.
    """
    import importlib

    for obj in configwalk.objects(config, configwalk.names_code):
        module, class_name = obj.get("module"), obj.get("class_name")
        if isinstance(module, str) and f"{module}.{class_name}" in policy.classes:
            try:
                importlib.import_module(module)
            except BaseException as exc:  # plugin code: anything may come out of its import
                raise ModelRefusedError(f"the module {printable(module)!r} that defines {printable(str(class_name))!r} "
                                        f"failed to import: {type(exc).__name__}") from None


def _check_weights(path: Path, config: dict[str, Any]) -> None:
    """The declared layers against the stored weight shapes, and the parameter cap."""
    from digitkit.modelfiles.weights import check_declared_weights

    try:
        with zipfile.ZipFile(path) as archive:
            check_declared_weights(config, archive, where=_name(path.name))
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise ModelRefusedError(f"{_name(path)} is a damaged .keras archive: {printable(str(exc))[:200]}") from exc


def load_model(path: str | Path, *, compile: bool = False) -> Any:
    """Load a ``.keras`` file in safe mode after checking it (see :func:`check_archive`).

    Raises:
        ModelRefusedError: the file is refused or Keras cannot load it.
    """
    path, config, policy = _checked(path)
    import keras

    _register_declared_layers(config, policy)
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a bad file; the user needs one line
        text = str(exc).strip()
        message = text.splitlines()[0] if text else type(exc).__name__
        raise ModelRefusedError(f"{_name(path.name)}: Keras refused to load it: {printable(message)[:300]}") from exc
    if not isinstance(model, keras.Model):  # a bare layer saved as a .keras file loads as a layer
        raise ModelRefusedError(f"{_name(path.name)} holds a {printable(type(model).__name__)}, not a model: refused")
    try:  # a Sequential of bare layers loads but has no input: every command then raised AttributeError
        model.input_shape, model.output_shape
    except (AttributeError, ValueError) as exc:
        raise ModelRefusedError(f"{_name(path.name)} holds a model with no defined input or output (bare layers "
                                "never called on an input): refused") from exc
    return model

