"""One :class:`Predictor` for every "run a model on digits": predict, evaluate, export's
parity check, bench, report, serve and the conformance kit all ask it.

    >>> predictor = digitkit.load("cnn")            # doctest: +SKIP
    >>> predictor.predict_proba(digits)             # (N, 28, 28) in [0, 1] -> (N, 10)

Backends: ``litert`` (``model.tflite`` through ai-edge-litert: no TensorFlow, well under a
second) and ``keras`` (``model.keras`` in safe mode). ``"auto"`` takes LiteRT when the run
has an up-to-date ``model.tflite`` and the runtime is installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from digitkit import runs
from digitkit.errors import DigitkitError, InputError, ModelRefusedError, UnavailableError, UsageError, printable
from digitkit.inference import refs
from digitkit.modelfiles import digests
from digitkit.inference.outputs import NO_CALIBRATION, Calibration, calibrate
from digitkit.inference.shapes import check_declared
from digitkit.spec import InputSpec

if TYPE_CHECKING:
    from digitkit.inference.status import Answers

BACKENDS = ("auto", "litert", "keras")
DIGIT_SIDE = 28


class Predictor:
    """A loaded digit model behind one method, :meth:`predict_proba`.

    Attributes:
        name: the model's name (zoo name, or the file's stem).
        backend: ``"litert"`` or ``"keras"``.
        input_spec: the input the model declares (side and per-sample shape).
        output: ``"logits"``, ``"probabilities"`` or ``"auto"`` (decided per batch).
        ref: what the MODEL argument resolved to (run, files, notes).
        path: the model file that was loaded.
        calibration: the temperature applied to its scores (the run's, or the shipped card's).
        tta: average the probabilities of a few shifted and scaled views of each digit
            (:mod:`digitkit.inference.tta`); :meth:`predict_proba`'s default.
    """

    def __init__(self, ref: refs.ModelRef, backend: str, path: Path, input_spec: InputSpec, output: str,
                 run: Callable[[np.ndarray], np.ndarray], keras_model: Any = None,
                 calibration: Calibration = NO_CALIBRATION, tta: bool = False) -> None:
        self.ref, self.backend, self.path = ref, backend, path
        self.name = ref.name
        self.input_spec, self.output = input_spec, output
        self.calibration = calibration
        self.tta = bool(tta)
        self._run = run
        self._keras_model = keras_model

    @property
    def run(self) -> runs.Run | None:
        return self.ref.run

    @property
    def run_id(self) -> str | None:
        return self.ref.run.id if self.ref.run is not None else None

    @property
    def notes(self) -> tuple[str, ...]:
        return self.ref.notes

    @property
    def keras_model(self) -> Any:
        """The Keras model (loaded on first use for a LiteRT predictor), e.g. for export."""
        if self._keras_model is None:
            if self.ref.keras_path is None:
                raise ModelRefusedError(f"{self.ref.label} has no .keras model file")
            from digitkit.inference.keras_backend import KerasModel

            self._keras_model = _checked_keras(self.ref, KerasModel(self.ref.keras_path)).model
        return self._keras_model

    def shape(self, digits: np.ndarray) -> np.ndarray:
        """Digits (N, side, side) in [0, 1] (or uint8) as the model's input (N, *input_spec.shape).

        Raises:
            InputError: not a batch of square digits, or values outside [0, 1] / not finite.
        """
        x = np.asarray(digits)
        if x.ndim == 1 + len(self.input_spec.shape) and x.shape[1:] == tuple(self.input_spec.shape):
            x = x.reshape(len(x), self.input_spec.image_size, self.input_spec.image_size)
        if x.ndim != 3 or x.shape[1] != x.shape[2] or x.shape[1] < 2:
            raise InputError(f"expected digits of shape (N, {DIGIT_SIDE}, {DIGIT_SIDE}). Received: shape={x.shape}")
        if x.dtype != np.uint8:
            x = x.astype(np.float32, copy=False)
            if x.size and not (np.isfinite(x).all() and x.min() >= -1e-6 and x.max() <= 1 + 1e-6):
                raise InputError("expected digit pixels in [0, 1] (float) or 0..255 (uint8); received values "
                                 f"from {np.nanmin(x):g} to {np.nanmax(x):g}")
        side = self.input_spec.image_size
        if x.shape[1:] == (side, side):  # no resizing: skip importing the resampler
            x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x
            return np.ascontiguousarray(x).reshape(len(x), *self.input_spec.shape)
        from digitkit.data.adapt import adapt_images

        return adapt_images(x, self.input_spec)

    def predict_proba(self, digits: np.ndarray, *, calibrated: bool = True, tta: bool | None = None) -> np.ndarray:
        """Class probabilities for a batch of digits.

        Args:
            digits: (N, 28, 28) float32 in [0, 1] (any square side works: it is resized to
                the model's input), or already shaped as ``(N, *input_spec.shape)``.
            calibrated: apply the model's calibration (:attr:`calibration`); ``False`` gives
                the raw softmax, e.g. to measure what calibration changed.
            tta: average over shifted and scaled views (:mod:`digitkit.inference.tta`, seven
                model calls per digit); ``None``: the predictor's :attr:`tta`.

        Returns:
            (N, 10) float32 probabilities; every row is finite and sums to 1.

        Raises:
            InputError: inputs of the wrong shape or range.
            ModelRefusedError: the model returned something other than N rows of 10 finite scores.
        """
        x = self.shape(digits)
        if not len(x):
            return np.zeros((0, 10), np.float32)
        return self.predict_shaped(x, calibrated=calibrated, tta=tta)

    def scores(self, digits: np.ndarray) -> np.ndarray:
        """The model's raw outputs (N, 10) for a batch of digits, before any softmax or
        calibration (and one view each, whatever :attr:`tta` says): :meth:`probabilities`
        turns them into what :meth:`predict_proba` gives without test-time augmentation."""
        x = self.shape(digits)
        return self._run(x) if len(x) else np.zeros((0, 10), np.float32)

    def probabilities(self, scores: np.ndarray, *, calibrated: bool = True) -> np.ndarray:
        """Checked (and calibrated) probabilities from :meth:`scores`."""
        return calibrate(scores, self.output, self.calibration if calibrated else NO_CALIBRATION, len(scores),
                         where=printable(self.ref.label))

    def predict_shaped(self, x: np.ndarray, *, calibrated: bool = True, tta: bool | None = None) -> np.ndarray:
        """Probabilities for inputs already shaped ``(N, *input_spec.shape)`` (no resizing)."""
        x = np.asarray(x, np.float32)
        calibration = self.calibration if calibrated else NO_CALIBRATION

        def probabilities(inputs: np.ndarray) -> np.ndarray:
            return calibrate(self._run(inputs), self.output, calibration, len(inputs), where=printable(self.ref.label))

        if not (self.tta if tta is None else tta) or not len(x):
            return probabilities(x)
        from digitkit.inference import tta as views  # only when asked: the default path imports nothing more

        return views.averaged(x, self.input_spec.image_size, probabilities)

    def answer(self, digits: np.ndarray, *, min_confidence: float | None = None) -> "Answers":
        """Calibrated probabilities and a status (``ok``, ``unsure``, ``not-a-digit``) per digit.

        The one call that predict, read, serve and Python callers use to decide whether an
        answer can be acted on; see :mod:`digitkit.inference.status` for the rule.

        Args:
            digits: as for :meth:`predict_proba`.
            min_confidence: below this calibrated confidence an answer is ``unsure``
                (default: :data:`digitkit.inference.status.DEFAULT_MIN_CONFIDENCE`).
        """
        from digitkit.inference.status import Answers

        return Answers.of(self.predict_proba(digits), np.asarray(digits), min_confidence)

    def answered_by(self) -> dict[str, Any]:
        """Which run or shipped weights answer, and their recorded test accuracy (for every
        output that shows answers: predict's title and JSON, evaluate, serve's picker)."""
        accuracy, tested_on = _recorded_accuracy(self.ref, self.backend)
        return {"answered_by": self.ref.label, "test_accuracy": accuracy, "test_set": tested_on,
                "calibration": self.calibration.to_dict()}

    def __repr__(self) -> str:
        return f"Predictor({self.name!r}, backend={self.backend!r}, path={str(self.path)!r})"


def _recorded_accuracy(ref: refs.ModelRef, backend: str) -> tuple[float | None, str | None]:
    """The test accuracy recorded with the model (run manifest or model card), and its test set."""
    try:
        if ref.run is not None:
            manifest = refs.read_manifest(ref.run)
            accuracy = (manifest.get("test_metrics") or {}).get("accuracy")
            return (float(accuracy) if isinstance(accuracy, (int, float)) else None,
                    (manifest.get("dataset") or {}).get("name"))
        if ref.pretrained:
            from digitkit import pretrained

            card = pretrained.card(ref.name)
            kind = "tflite" if backend == "litert" else "keras"
            accuracy = (card.get("files", {}).get(kind) or {}).get("test_accuracy", card.get("test_accuracy"))
            return (float(accuracy) if isinstance(accuracy, (int, float)) else None,
                    (card.get("data") or {}).get("name"))
    except DigitkitError:  # a damaged record only loses the figure, never the answer
        pass
    return None, None


def _declared(ref: refs.ModelRef) -> tuple[InputSpec | None, str | None]:
    """What the run (or the model's zoo spec, for shipped weights) says the model takes."""
    if ref.run is not None:
        return refs.run_input(ref.run, ref.manifest)
    if ref.pretrained:
        return refs.pretrained_input(ref.name)
    return None, None


def _checked_keras(ref: refs.ModelRef, model: Any) -> Any:
    declared, _ = _declared(ref)
    check_declared(declared, model.input_spec, where=printable(ref.keras_path.name), file=runs.MODEL
                   if ref.run else printable(ref.keras_path.name))
    return model


def _usable_tflite(ref: refs.ModelRef) -> tuple[Path | None, str]:
    """The ``.tflite`` to use, or ``None`` and why not."""
    if ref.tflite_path is None:
        return None, f"{ref.label} has no {runs.TFLITE}"
    run = ref.run
    if run is None or ref.tflite_path.resolve() != run.file(runs.TFLITE).resolve() or ref.keras_path is None:
        return ref.tflite_path, ""
    state = digests.pair_state(run, ref.manifest if ref.manifest is not None else refs.read_manifest(run))
    if state == "replaced":
        raise ModelRefusedError(f"run {run.id}: {runs.TFLITE} is not the file exported from its model "
                                "(its SHA-256 differs from the one recorded in the manifest)",
                                hint=f"export it again with `digitkit export {run.id} --format litert`")
    if state == "stale":
        return None, f"run {run.id}: {runs.TFLITE} was exported from an older {runs.MODEL}"
    if state == "unknown" and ref.keras_path.exists() and \
            ref.keras_path.stat().st_mtime > ref.tflite_path.stat().st_mtime + 1:
        return None, f"run {run.id}: {runs.TFLITE} is older than {runs.MODEL}"
    return ref.tflite_path, ""


def _shipped_checked(ref: refs.ModelRef, kind: str) -> None:
    """Shipped weights are compared with their card's SHA-256 before anything reads them."""
    if ref.pretrained:
        from digitkit import pretrained

        pretrained.verified(ref.name, kind)


def _litert(ref: refs.ModelRef, tflite: Path, threads: int | None = None, tta: bool = False) -> Predictor:
    from digitkit.inference.litert_backend import LiteRTModel

    _shipped_checked(ref, "tflite")
    model = LiteRTModel(tflite, num_threads=threads)
    declared, output = _declared(ref)
    spec = check_declared(declared, model.input_spec, where=printable(ref.label), file=printable(tflite.name))
    return Predictor(ref, "litert", tflite, spec, output or "auto", model.predict,
                     calibration=calibration_of(ref, tflite), tta=tta)


def _keras(ref: refs.ModelRef, tta: bool = False) -> Predictor:
    from digitkit.inference.keras_backend import KerasModel

    assert ref.keras_path is not None
    _shipped_checked(ref, "keras")
    model = _checked_keras(ref, KerasModel(ref.keras_path))
    declared, output = _declared(ref)
    return Predictor(ref, "keras", ref.keras_path, declared or model.input_spec, output or model.output_kind,
                     model.predict, keras_model=model.model, calibration=calibration_of(ref, ref.keras_path), tta=tta)


def calibration_of(ref: refs.ModelRef, path: Path) -> Calibration:
    """The calibration recorded for the model file ``path``: its run's (fit writes it in the
    manifest), or its card's for shipped weights. A loose file has none of its own: an
    export from a calibrated run carries its temperature inside (see digitkit.exporting)."""
    if ref.run is not None and path.parent.resolve() == ref.run.path.resolve():
        return Calibration.from_record(refs.read_manifest(ref.run).get("calibration"), "run")
    if ref.pretrained:
        from digitkit import pretrained

        return Calibration.from_record(pretrained.card(ref.name).get("calibration"), "pretrained")
    return NO_CALIBRATION


def load(model: str | refs.ModelRef = "cnn", backend: str = "auto", *, threads: int | None = None,
         tta: bool = False) -> Predictor:
    """Load a trained model for prediction.

    Args:
        model: a run id, a run folder, a ``.keras``/``.tflite`` path, ``<model>@pretrained``,
            or a model name (its latest completed run, else its shipped weights); or an
            already resolved :class:`~digitkit.inference.refs.ModelRef` (a server resolves
            names its own way, never relative to its working folder).
        backend: ``"auto"`` (LiteRT when there is an up-to-date ``.tflite`` and the runtime
            is installed, else Keras), ``"litert"`` or ``"keras"``.
        threads: LiteRT interpreter threads (default: up to 4). A server that already runs
            requests side by side wants 1: a multi-threaded interpreter then waits for a free
            core at every call.
        tta: test-time augmentation for every :meth:`Predictor.predict_proba` (and so every
            answer): seven views of each digit, probabilities averaged; off by default.

    Raises:
        UsageError: unknown backend, or nothing answers to ``model``.
        ModelRefusedError: the model file is missing, unsafe, or not a digit model.
        UnavailableError: only a ``.tflite`` and no LiteRT runtime.
    """
    from digitkit.inference import litert_backend

    if backend not in BACKENDS:
        raise UsageError(f"expected backend in {BACKENDS}. Received: backend={backend!r}")
    ref = model if isinstance(model, refs.ModelRef) else refs.resolve(model)
    if backend == "keras" and ref.keras_path is None:
        raise ModelRefusedError(f"{printable(ref.label)} has no .keras model file, so the keras backend cannot be used")
    tflite, why_not = _usable_tflite(ref) if backend != "keras" else (None, "")
    if backend == "litert" and tflite is None:
        raise ModelRefusedError(f"{why_not}, so the litert backend cannot be used",
                                hint=f"make one with `digitkit export {ref.label} --format litert`")
    if tflite is not None and (backend == "litert" or litert_backend.available()):
        return _litert(ref, tflite, threads, tta)
    if ref.keras_path is None:
        raise UnavailableError(f"{printable(ref.label)} is a .tflite model and the LiteRT runtime is not installed",
                               hint=litert_backend.INSTALL_HINT)
    if tflite is not None:  # a run with a model.tflite, on a platform without the runtime
        ref = ref.with_notes("using Keras (slower start): " + litert_backend.INSTALL_HINT)
    return _keras(ref, tta)
