"""Exporting a trained model to other formats, each checked against the Keras original.

Formats: ``keras`` (a verified copy), ``saved-model`` (TensorFlow SavedModel folder, for TF
Serving), ``litert`` (``.tflite`` for the LiteRT runtime, phones and `digitkit predict`),
``onnx`` (needs ``tf2onnx`` to write and ``onnxruntime`` to check).

Every export is written to a temporary path beside its target, then checked for parity on
:data:`PARITY_SAMPLES` test digits of the bundled sample: the exported artefact must give
the same top-1 digit as the Keras model on every digit and probabilities within
:data:`TOLERANCE`. Only then does it replace the target; a failed check leaves the old
file (if any) in place.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from digitkit import runs
from digitkit._internal import atomic
from digitkit.errors import DigitkitError, UnavailableError, UsageError

FORMATS = ("keras", "saved-model", "litert", "onnx")
SUFFIXES = {"keras": ".keras", "saved-model": "", "litert": ".tflite", "onnx": ".onnx"}
PARITY_SAMPLES = 200
# Float32 conversions reorder arithmetic; 1e-4 on probabilities is far below anything that
# changes an answer, yet catches a wrong input layout or a missing softmax.
TOLERANCE = 1e-4


@dataclass
class Parity:
    """How an exported artefact agrees with the Keras model on the same digits."""

    samples: int
    top1_agreement: int
    max_abs_diff: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.top1_agreement == self.samples and self.max_abs_diff <= self.tolerance

    def describe(self) -> str:
        return (f"same top-1 digit on {self.top1_agreement}/{self.samples} test digits, "
                f"probabilities within {self.max_abs_diff:.1e} (tolerance {self.tolerance:.0e})")

    def to_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "top1_agreement": self.top1_agreement,
                "max_abs_diff": self.max_abs_diff, "tolerance": self.tolerance, "passed": self.passed}


@dataclass
class ExportResult:
    """Where an export was written and how it checked out."""

    format: str
    path: Path
    model_name: str
    run_id: str | None
    size_bytes: int
    parity: Parity | None  # None when an up-to-date export was reused (it was checked when written)
    seconds: float
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "path": str(self.path), "model": self.model_name, "run": self.run_id,
                "size_bytes": self.size_bytes, "parity": self.parity.to_dict() if self.parity else None,
                "seconds": round(self.seconds, 2), "reused": self.reused}


def parity_digits(count: int = PARITY_SAMPLES) -> np.ndarray:
    """The first ``count`` test digits of the bundled sample, (N, 28, 28) in [0, 1]."""
    from digitkit.data import load_digits

    digits = load_digits("sample", split="test")
    return digits.images[:count].astype(np.float32) / 255.0


def compare(reference: np.ndarray, exported: np.ndarray, tolerance: float = TOLERANCE) -> Parity:
    """Parity of two batches of checked class probabilities."""
    agree = int((reference.argmax(axis=1) == exported.argmax(axis=1)).sum())
    diff = float(np.abs(reference.astype(np.float64) - exported).max()) if reference.size else 0.0
    return Parity(len(reference), agree, diff, tolerance)


def default_out(format: str, model_path: Path, run: runs.Run | None, model_name: str, *,
                pretrained: bool = False) -> Path:
    """``model.tflite`` in the run for LiteRT (what `predict` uses), else ``<run>/exports/``.

    A loose model file exports beside itself; shipped weights export into the current
    folder, never into the installed package.
    """
    if run is not None:
        if format == "litert":
            return run.file(runs.TFLITE)
        return run.path / "exports" / f"{model_name}{SUFFIXES[format]}"
    if pretrained:
        return Path.cwd() / f"{model_name}-pretrained{SUFFIXES[format]}"
    return model_path.with_name(f"{model_path.stem}-export{SUFFIXES[format]}")


def export(ref: str, format: str, out: str | os.PathLike | None = None, *,
           samples: int = PARITY_SAMPLES) -> ExportResult:
    """Export a trained model and check it against the Keras model.

    Args:
        ref: a run id, ``.keras`` path, run folder, or model name (its latest run).
        format: one of :data:`FORMATS`.
        out: target path (a folder for ``saved-model``); defaults to the run's folder.
        samples: test digits used for the parity check.

    Raises:
        UsageError: unknown format.
        UnavailableError: the format's converter or runtime is not installed (ONNX).
        DigitkitError: the parity check failed (nothing is written).
    """
    if format not in FORMATS:
        raise UsageError(f"expected format in {FORMATS}. Received: format={format!r}")
    started = time.perf_counter()
    if format == "litert":
        reused = _up_to_date_litert(ref, out, started)
        if reused is not None:
            return reused
    writer, runner = _format_tools(format)
    from digitkit.inference import load
    from digitkit.inference.outputs import calibrate

    predictor = load(ref, backend="keras")
    source = predictor.path
    target = Path(out).expanduser() if out is not None else \
        default_out(format, source, predictor.run, predictor.name, pretrained=predictor.ref.pretrained)
    if target.resolve() == source.resolve():
        raise UsageError(f"refusing to overwrite the model being exported ({target})", hint="pass another --out")
    x = predictor.shape(parity_digits(samples))
    reference = predictor.predict_shaped(x)  # calibrated, as predict shows it
    model, applied = _calibrated_model(predictor, target, format)
    with _staged(target, is_dir=format == "saved-model") as temp:
        writer(model, temp)
        exported = calibrate(runner(temp, x), predictor.output, applied, len(x), where=f"the {format} export")
        parity = compare(reference, exported)
        if not parity.passed:
            raise DigitkitError(f"{format} export failed its parity check: {parity.describe()}",
                                hint="nothing was written; please report this with the run id")
    if predictor.run is not None and target.resolve() == predictor.run.file(runs.TFLITE).resolve():
        from digitkit.modelfiles import digests

        digests.record(predictor.run)
    return ExportResult(format, target, predictor.name, predictor.run_id, _size(target),
                        parity, time.perf_counter() - started)


def _calibrated_model(predictor: Any, target: Path, format: str) -> tuple[Any, Any]:
    """The model to write, and the calibration digitkit applies to that file's outputs.

    The run's own ``model.tflite`` stays raw (the Predictor applies the manifest's
    temperature to it); any other file carries the temperature inside
    (:mod:`digitkit.inference.baked`). Raises when a file would lose it silently.
    """
    from digitkit.inference.baked import with_temperature
    from digitkit.inference.outputs import NO_CALIBRATION

    calibration = predictor.calibration
    if predictor.run is not None and target.resolve() == predictor.run.file(runs.TFLITE).resolve():
        return predictor.keras_model, calibration
    model = with_temperature(predictor.keras_model, calibration, predictor.output, keras_file=format == "keras")
    if model is None:
        raise UsageError(f"a .keras copy of {predictor.ref.label} cannot carry its calibration (temperature "
                         f"{calibration.temperature:.3f}) for a model that outputs probabilities",
                         hint="export --format litert, onnx or saved-model, which carry it")
    return model, NO_CALIBRATION


def _up_to_date_litert(ref: str, out: str | os.PathLike | None, started: float) -> ExportResult | None:
    """The run's own ``model.tflite`` when it is the checked export of its ``model.keras``.

    `fit` writes and checks ``model.tflite`` and records both files' SHA-256; when both still
    match, exporting again (35-39 s of TensorFlow) would write the same file. Without
    TensorFlow this answers in well under a second.
    """
    from digitkit.inference.refs import read_manifest, resolve
    from digitkit.modelfiles import digests

    model = resolve(ref)
    if model.run is None:
        return None
    target = model.run.file(runs.TFLITE)
    if out is not None and Path(out).expanduser().resolve() != target.resolve():
        return None
    if not target.is_file() or digests.pair_state(model.run, read_manifest(model.run)) != "same":
        return None
    return ExportResult("litert", target, model.name, model.run.id, _size(target), None,
                        time.perf_counter() - started, reused=True)


def export_litert(model: Any, path: str | os.PathLike, *, check: bool = True) -> Path:
    """Write ``model`` as a LiteRT ``.tflite`` file atomically (used by `fit` for each run).

    Args:
        model: a Keras model.
        path: the target file, usually ``<run>/model.tflite``.
        check: compare the file with the model on 32 random inputs before replacing ``path``.

    Raises:
        DigitkitError: conversion failed or the file disagrees with the model.
    """
    from digitkit.inference.keras_backend import output_kind_of
    from digitkit.inference.outputs import to_probabilities

    path = Path(path)
    with atomic.atomic_path(path, suffix=".tflite") as temp:
        _write_litert(model, temp)
        if check:
            rng = np.random.default_rng(0)
            x = rng.random((32, *model.input_shape[1:]), dtype=np.float32)
            kind = output_kind_of(model)
            parity = compare(to_probabilities(_keras_outputs(model, x), kind, where="the model"),
                             to_probabilities(_run_litert(temp, x), kind, where="the LiteRT export"),
                             tolerance=1e-3)
            if parity.top1_agreement < parity.samples - 1:
                raise DigitkitError(f"LiteRT export disagrees with the Keras model: {parity.describe()}")
    _record_digests(path)
    return path


def _record_digests(tflite: Path) -> None:
    """In a run folder, note which model.keras this model.tflite was made from."""
    if tflite.name == runs.TFLITE and (tflite.parent / runs.MANIFEST).is_file():
        from digitkit.modelfiles import digests

        digests.record(runs.Run(tflite.parent))


# --- per-format writers and runners ------------------------------------------------------

def _format_tools(format: str) -> tuple[Callable[[Any, Path], None], Callable[[Path, np.ndarray], np.ndarray]]:
    if format == "onnx":
        missing = [m for m in ("tf2onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
        if missing:
            raise UnavailableError(
                f"ONNX export skipped: {' and '.join(missing)} not installed "
                f"({'writes' if missing[0] == 'tf2onnx' else 'checks'} the .onnx file)",
                hint="pip install tf2onnx onnxruntime")
    return {
        "keras": (_write_keras, _run_keras_file),
        "saved-model": (_write_saved_model, _run_saved_model),
        "litert": (_write_litert, _run_litert),
        "onnx": (_write_onnx, _run_onnx),
    }[format]


def _keras_outputs(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=256, verbose=0))


def _write_keras(model: Any, temp: Path) -> None:
    from digitkit.modelfiles.keras_file import save_model

    save_model(model, temp)


def _run_keras_file(temp: Path, x: np.ndarray) -> np.ndarray:
    from digitkit.modelfiles.keras_file import load_model

    return np.asarray(load_model(temp).predict(x, batch_size=256, verbose=0))


def _write_saved_model(model: Any, temp: Path) -> None:
    model.export(str(temp), format="tf_saved_model", verbose=False)


def _run_saved_model(temp: Path, x: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(temp))
    return np.asarray(loaded.serve(tf.constant(x)))


def _write_litert(model: Any, temp: Path) -> None:
    try:
        model.export(str(temp), format="litert", verbose=False)
    except ValueError as exc:
        if "litert" not in str(exc).lower():
            raise
        _write_litert_with_converter(model, temp)  # Keras releases without format="litert"


def _write_litert_with_converter(model: Any, temp: Path) -> None:
    import tensorflow as tf

    with tempfile.TemporaryDirectory(dir=temp.parent, prefix=".digitkit-tmp-") as folder:
        model.export(folder, format="tf_saved_model", verbose=False)
        temp.write_bytes(tf.lite.TFLiteConverter.from_saved_model(folder).convert())


def _run_litert(temp: Path, x: np.ndarray) -> np.ndarray:
    """Run the exported file through the same LiteRT backend ``predict`` uses.

    TensorFlow's own ``tf.lite.Interpreter`` is marked for deletion; checking the file with
    the runtime that will serve it is also the more honest check.
    """
    from digitkit.inference import litert_backend

    if not litert_backend.available():
        raise UnavailableError("the LiteRT export's parity check needs the LiteRT runtime",
                               hint=litert_backend.INSTALL_HINT)
    return litert_backend.LiteRTModel(temp).predict(x)


def _write_onnx(model: Any, temp: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # tf2onnx probes np.object
        model.export(str(temp), format="onnx", verbose=False)


def _run_onnx(temp: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(temp), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: x.astype(np.float32)})[0])


# --- staging -----------------------------------------------------------------------------

class _staged:
    """A temp file or folder beside ``target`` that replaces it only on success."""

    def __init__(self, target: Path, is_dir: bool) -> None:
        self.target, self.is_dir = target, is_dir

    def __enter__(self) -> Path:
        if not self.is_dir:
            self._file = atomic.atomic_path(self.target, suffix=self.target.suffix or None)
            return self._file.__enter__()
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._folder = Path(tempfile.mkdtemp(prefix=atomic.TEMP_PREFIX, dir=self.target.parent))
        return self._folder / "saved_model"

    def __exit__(self, kind, value, traceback) -> bool:
        if not self.is_dir:
            return bool(self._file.__exit__(kind, value, traceback))
        try:
            if kind is None:
                old = None
                if self.target.exists():
                    old = self._folder / "previous"
                    os.replace(self.target, old)
                os.replace(self._folder / "saved_model", self.target)
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
        return False


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
