"""Predicting the digit in image files with a trained model.

:func:`predict` expands inputs (files, folders recursively, globs, ``-`` for stdin),
loads each through :func:`digitkit.images.load_digit`, and asks the model. A run's
``model.tflite`` is used through LiteRT when present (no TensorFlow import, well under a
second); otherwise the run's ``model.keras`` is loaded with Keras.

A file that cannot be read is reported and skipped; the others are still predicted.
Outputs are always probabilities (softmax for logit models); a model whose outputs are not
finite is refused rather than allowed to "predict 0".
"""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, Union

import numpy as np

from digitkit import runs
from digitkit.errors import InputError, ModelRefusedError, PartialFailure, UsageError
from digitkit.images import display_name, load_digit
from digitkit.spec import InputSpec

STDIN = "-"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
DEFAULT_MODEL = "cnn"
BACKENDS = ("auto", "litert", "keras")
GLOB_CHARS = set("*?[")

Input = Union[str, os.PathLike, bytes]


@dataclass
class Prediction:
    """The answer for one input.

    Attributes:
        input: the input's printable name.
        digit: the predicted digit, or ``None`` when below ``min_confidence``.
        best: the most probable digit (even when not confident enough).
        confidence: its probability.
        top_k: ``(digit, probability)`` pairs, most probable first.
        probabilities: all class probabilities (sum to 1).
        image: the digit as the model received it (image_size x image_size, [0, 1]).
    """

    input: str
    digit: int | None
    best: int
    confidence: float
    top_k: list[tuple[int, float]]
    probabilities: np.ndarray
    image: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "digit": self.digit,
            "best": self.best,
            "confidence": round(self.confidence, 6),
            "top_k": [{"digit": d, "probability": round(p, 6)} for d, p in self.top_k],
            "probabilities": [round(float(p), 6) for p in self.probabilities],
        }


@dataclass
class Failure:
    """An input that could not be predicted, and why (one line)."""

    input: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"input": self.input, "error": self.message}


@dataclass
class PredictResult:
    """Predictions in input order, failures, and which model and backend answered."""

    predictions: list[Prediction]
    failures: list[Failure]
    model_name: str
    model_path: Path
    run_id: str | None
    backend: str
    min_confidence: float | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": {"name": self.model_name, "run": self.run_id, "path": str(self.model_path),
                      "backend": self.backend},
            "min_confidence": self.min_confidence,
            "predictions": [p.to_dict() for p in self.predictions],
            "failures": [f.to_dict() for f in self.failures],
        }

    def check(self) -> None:
        """Raise :class:`PartialFailure` (exit 7) when some inputs failed."""
        if self.failures:
            total = len(self.failures) + len(self.predictions)
            raise PartialFailure(f"{len(self.failures)} of {total} inputs could not be predicted",
                                 hint="see the lines above")


class NothingPredicted(InputError):
    """No input could be read; ``failures`` says why for each."""

    def __init__(self, failures: list[Failure]) -> None:
        if len(failures) == 1:
            message = f"{failures[0].input}: {failures[0].message}"
        else:
            message = f"none of the {len(failures)} inputs could be read (first: {failures[0].input}: " \
                      f"{failures[0].message})"
        super().__init__(message)
        self.failures = failures


# --- inputs -----------------------------------------------------------------------------

def expand_inputs(inputs: Sequence[Input]) -> list[tuple[str, Input | Failure]]:
    """Files as given, folders recursively (image suffixes only, sorted), globs sorted.

    Returns:
        ``(name, source)`` pairs in a stable order; an input matching nothing gives a
        :class:`Failure` as its source, in its place.
    """
    found: list[tuple[str, Input | Failure]] = []
    for item in inputs:
        if isinstance(item, (bytes, bytearray)):
            found.append((f"<bytes #{len(found) + 1}>", bytes(item)))
            continue
        text = os.fspath(item)
        name = display_name(text)
        if text == STDIN:
            found.append(("<stdin>", STDIN))
            continue
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            found.extend((display_name(p), p) for p in files)
            if not files:
                found.append((name, Failure(name, "folder holds no image files")))
        elif path.exists() or path.is_symlink():
            found.append((name, path))
        else:
            files = [Path(m) for m in sorted(glob.glob(text, recursive=True))] if GLOB_CHARS & set(text) else []
            files = [p for p in files if p.is_file()]
            found.extend((display_name(p), p) for p in files)
            if not files:
                found.append((name, Failure(name, "no such file" + (" (and no file matches it as a pattern)"
                                                                   if GLOB_CHARS & set(text) else ""))))
    return found


def _read_stdin() -> bytes:
    from digitkit.intake import read_bytes

    return read_bytes(STDIN)  # capped like any file: `predict - < /dev/zero` cannot fill memory


def load_inputs(items: list[tuple[str, Input | Failure]], preprocess: bool = True,
                ) -> tuple[list[tuple[str, np.ndarray]], list[Failure]]:
    """Load every input as a 28x28 digit; digits and failures each keep the input order."""
    digits, failures = [], []
    for name, source in items:
        if isinstance(source, Failure):
            failures.append(source)
            continue
        try:
            data = _read_stdin() if source == STDIN else source
            digit = load_digit(data, preprocess=preprocess)
        except InputError as exc:
            message = exc.message
            if message.startswith(name + ": ") or message.startswith(name + " "):
                message = message[len(name):].lstrip(": ").strip()
            elif message.startswith("<bytes>"):
                message = message[len("<bytes>"):].lstrip(": ").strip()
            failures.append(Failure(name, message))
            continue
        digits.append((name, digit))
    return digits, failures


# --- backends ---------------------------------------------------------------------------

@dataclass
class Backend:
    """A loaded model behind one interface: ``run(x) -> outputs``."""

    name: str  # "litert" | "keras"
    input_spec: InputSpec
    output: str  # "logits" | "probabilities"
    model_name: str
    model_path: Path
    run_id: str | None
    run: Callable[[np.ndarray], np.ndarray]


def _tflite_of(ref: runs.ModelRef) -> Path | None:
    if ref.model_path.suffix.lower() == ".tflite":
        return ref.model_path
    if ref.run is None:
        return None
    tflite = ref.run.file(runs.TFLITE)
    keras_file = ref.model_path
    if not tflite.is_file():
        return None
    # A model.keras newer than its export means the .tflite is stale: trust Keras instead.
    if keras_file.exists() and keras_file.stat().st_mtime > tflite.stat().st_mtime + 1:
        return None
    return tflite


def load_backend(model: str = DEFAULT_MODEL, backend: str = "auto") -> Backend:
    """Resolve ``model`` (run id, path, or model name) and load the fastest usable backend.

    Args:
        model: a run id, a ``.keras``/``.tflite`` path or run folder, or a model name.
        backend: ``"auto"`` (LiteRT when the run has ``model.tflite`` and the runtime is
            installed, else Keras), ``"litert"`` or ``"keras"``.
    """
    from digitkit import litert

    if backend not in BACKENDS:
        raise UsageError(f"expected backend in {BACKENDS}. Received: backend={backend!r}")
    ref = runs.resolve_model(model)
    tflite = _tflite_of(ref) if backend != "keras" else None
    if backend == "litert" and tflite is None:
        raise ModelRefusedError(f"{ref.run.id if ref.run else ref.model_path} has no up-to-date {runs.TFLITE}",
                                hint="make one with `digitkit export RUN --format litert`")
    if tflite is not None and (backend == "litert" or litert.available()):
        return _litert_backend(ref, tflite)
    if ref.model_path.suffix.lower() == ".tflite":
        raise ModelRefusedError(f"{ref.model_path.name} needs the LiteRT runtime",
                                hint="pip install 'digitkit[fast]'")
    return _keras_backend(model)


def _manifest_spec(ref: runs.ModelRef) -> tuple[InputSpec | None, str | None]:
    meta = ref.run.manifest.get("spec") if ref.run else None
    if not meta:
        return None, None
    return InputSpec(image_size=meta["input"]["image_size"], shape=tuple(meta["input"]["shape"])), meta["output"]


def _litert_backend(ref: runs.ModelRef, tflite: Path) -> Backend:
    import math

    from digitkit.litert import LiteRTModel

    model = LiteRTModel(tflite)
    input_spec, output = _manifest_spec(ref)
    if input_spec is None:
        count = int(np.prod(model.sample_shape))
        side = math.isqrt(count)
        if side * side != count:
            raise ModelRefusedError(f"{tflite.name}: input {model.sample_shape} is not a square grey digit")
        input_spec = InputSpec(image_size=side, shape=model.sample_shape)
    name = ref.model_name or tflite.stem
    return Backend("litert", input_spec, output or "auto", name, tflite, ref.run.id if ref.run else None,
                   model.predict)


def _keras_backend(model_ref: str) -> Backend:
    from digitkit.loaded import load_for_inference

    loaded = load_for_inference(model_ref)

    def run(x: np.ndarray) -> np.ndarray:
        if len(x) <= 64:  # one call is far cheaper than predict()'s tf.data set-up
            return np.asarray(loaded.model(x, training=False))
        return np.asarray(loaded.model.predict(x, batch_size=512, verbose=0))

    return Backend("keras", loaded.input_spec, loaded.output, loaded.name, loaded.path,
                   loaded.run.id if loaded.run else None, run)


# --- prediction -------------------------------------------------------------------------

def probabilities_of(outputs: np.ndarray, output: str) -> np.ndarray:
    """Class probabilities from raw outputs; refuses NaN/inf rather than "predicting 0".

    Args:
        outputs: (N, classes) model outputs.
        output: ``"logits"``, ``"probabilities"``, or ``"auto"`` (probabilities when every
            row is non-negative and sums to 1).

    Raises:
        ModelRefusedError: some outputs are not finite.
    """
    from digitkit.loaded import to_probabilities

    outputs = np.asarray(outputs, dtype=np.float64)
    bad = ~np.isfinite(outputs).all(axis=1)
    if bad.any():
        raise ModelRefusedError(
            f"the model produced NaN or infinite outputs for {int(bad.sum())} of {len(outputs)} inputs; "
            "it is broken (did training diverge?), so no digit is predicted",
            hint="retrain it, e.g. with a lower --learning-rate")
    if output == "auto":
        looks_like_probabilities = (outputs >= 0).all() and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)
        output = "probabilities" if looks_like_probabilities else "logits"
    probabilities = to_probabilities(outputs, output).astype(np.float64)
    if output == "probabilities":  # a softmax layer's float32 sum may be off by 1e-7
        probabilities = np.clip(probabilities, 0.0, None)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
    return probabilities


def _answer(name: str, probabilities: np.ndarray, image: np.ndarray, top_k: int,
            min_confidence: float | None) -> Prediction:
    order = np.argsort(-probabilities, kind="stable")[:top_k]
    best = int(order[0])
    confidence = float(probabilities[best])
    digit = None if min_confidence is not None and confidence < min_confidence else best
    return Prediction(name, digit, best, confidence, [(int(d), float(probabilities[d])) for d in order],
                      probabilities.astype(np.float32), image)


def predict(paths: Input | Iterable[Input], model: str = DEFAULT_MODEL, top_k: int = 3, *,
            min_confidence: float | None = None, preprocess: bool = True, backend: str = "auto",
            ) -> PredictResult:
    """Predict the digit in each image.

    Args:
        paths: image files, folders (searched recursively), glob patterns, ``"-"`` for an
            image on stdin, or raw image bytes; one or many.
        model: a run id, a ``.keras``/``.tflite`` path, a run folder, or a model name (its
            latest completed run). Defaults to the latest ``cnn`` run.
        top_k: how many digits to rank per image (1..10).
        min_confidence: below this probability the answer is ``None`` (shown as "?").
        preprocess: ``False`` skips MNIST-style preprocessing (inputs already 28x28 MNIST-like).
        backend: ``"auto"``, ``"litert"`` or ``"keras"``.

    Returns:
        A :class:`PredictResult`; ``result.failures`` lists inputs that were skipped and
        ``result.check()`` raises :class:`PartialFailure` when there are any.

    Raises:
        NothingPredicted: no input could be read (an ``InputError``, exit code 3).
        ModelRefusedError: the model is missing, broken, or outputs NaN.
    """
    if not 1 <= top_k <= 10:
        raise UsageError(f"expected 1 <= top_k <= 10. Received: top_k={top_k}")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise UsageError(f"expected 0 <= min_confidence <= 1. Received: min_confidence={min_confidence}")
    if isinstance(paths, (str, bytes, bytearray, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise UsageError("expected at least one image, folder or pattern. Received: paths=[]")
    started = time.perf_counter()
    engine = load_backend(model, backend)
    digits, failures = load_inputs(expand_inputs(paths), preprocess=preprocess)
    if not digits:
        raise NothingPredicted(failures or [Failure("input", "nothing to predict")])
    from digitkit.data.adapt import adapt_images

    batch = adapt_images(np.stack([d for _, d in digits]), engine.input_spec)
    probabilities = probabilities_of(engine.run(batch), engine.output)
    seen = batch.reshape(len(batch), engine.input_spec.image_size, engine.input_spec.image_size)
    predictions = [_answer(name, probabilities[i], seen[i], top_k, min_confidence)
                   for i, (name, _) in enumerate(digits)]
    return PredictResult(predictions, failures, engine.model_name, engine.model_path, engine.run_id,
                         engine.name, min_confidence, time.perf_counter() - started)
