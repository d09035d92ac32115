"""The one place where `digitkit serve` calls the inference engine and the image intake.

Everything else in :mod:`digitkit.serve` talks to :class:`Engine`, :func:`read_digit` and
:func:`list_models` only, so moving to the shared ``digitkit.load() -> Predictor`` and
``digitkit.intake`` interfaces changes this file and nothing else.

Nothing here knows about HTTP; the functions run in worker threads.
"""

from __future__ import annotations

import base64
import copy
import io
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from digitkit.errors import InputError

# The panels that explain a photo (``explain=1``) are at most this many pixels a side: a few
# kilobytes of PNG each, four per photo.
PANEL_SIDE = 96


@dataclass(frozen=True)
class Digit:
    """One input turned into an MNIST-style digit (float32 28x28 in [0, 1]), or why not."""

    name: str
    image: np.ndarray | None
    error: str | None = None
    panels: list[tuple[str, np.ndarray]] | None = None


def read_digit(data: bytes, name: str, preprocess: bool = True, explain: bool = False) -> Digit:
    """Decode and preprocess one uploaded image; an unreadable one is returned with its reason.

    Args:
        data: the file's bytes (already capped in size by the caller).
        name: the upload's file name, used in messages.
        preprocess: ``False`` only resizes to 28x28, as ``predict --no-preprocess``.
        explain: also the picture as preprocessing found it (paper, ink, crop), from the same
            pass, as ``predict --show`` draws it (:func:`digitkit.intake.explain.digit_and_panels`).
    """
    from digitkit import intake

    try:
        image = intake.decode(bytes(data), name)
        if not explain:
            return Digit(name, intake.to_digit(image, preprocess=preprocess))
        from digitkit.intake.explain import digit_and_panels

        digit, panels = digit_and_panels(intake.picture_or_bytes(image), PANEL_SIDE, preprocess=preprocess)
        return Digit(name, digit, panels=panels)
    except InputError as exc:
        return Digit(name, None, _without_prefix(exc.message, ("<bytes>", name)))


def _without_prefix(message: str, names: tuple[str, ...]) -> str:
    # The intake starts its messages with the source's name; the JSON already says which input.
    for name in names:
        if message.startswith(name):
            return message[len(name):].lstrip(": ").strip() or message
    return message


class Engine:
    """A model loaded once, answering batches of digits with the ``predict --json`` shape.

    Args:
        model: a model reference as ``digitkit predict --model`` takes it (the operator's),
            or a resolved :class:`~digitkit.inference.refs.ModelRef` (a client's choice).
        debug: show the model file's absolute path in :attr:`info` (otherwise its name only:
            answers must not tell a client where the home is).

    Raises:
        DigitkitError: the model is unknown, missing or refused (``UnknownModelError`` for
            nothing answering to ``model``).
    """

    def __init__(self, model, debug: bool = False) -> None:
        import time

        from digitkit.inference import load

        self.reference = model
        self.debug = debug
        started = time.perf_counter()
        # One interpreter thread: the server already runs requests side by side, and a
        # multi-threaded interpreter then waits for a free core at every call (about 5 ms
        # instead of 0.3 ms per digit on a busy 2-core machine).
        self._predictor = load(model, threads=1)
        self.load_seconds = time.perf_counter() - started
        # A LiteRT interpreter (and a Keras model called eagerly) must not run two batches
        # at once; preprocessing, the expensive part, happens outside this lock.
        self._lock = threading.Lock()
        self._info: dict[str, Any] | None = None

    def predict_proba(self, digits: np.ndarray) -> np.ndarray:
        """Probabilities for a batch of 28x28 digits, one batch at a time (``digitkit read``'s path)."""
        with self._lock:
            return self._predictor.predict_proba(digits)

    @property
    def info(self) -> dict[str, Any]:
        """The ``model`` object of ``predict --json``: name, run, path, backend (a fresh copy)."""
        if self._info is None:
            # Read once: the run's record describes the weights loaded with it, and reading
            # and checking its manifest again was a tenth of a small prediction's CPU.
            p = self._predictor
            self._info = {"name": p.name, "run": p.run_id, "path": str(p.path) if self.debug else p.path.name,
                          "backend": p.backend, **p.answered_by()}
        return copy.deepcopy(self._info)

    @property
    def label(self) -> str:
        """How metrics and messages name the model: run id, ``NAME@pretrained`` or file name."""
        return self._predictor.ref.label

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's input shape as the model declares it (e.g. ``(28, 28, 1)``)."""
        return tuple(int(n) for n in self._predictor.input_spec.shape)

    def shape_digits(self, digits: np.ndarray) -> np.ndarray:
        """MNIST-style digits (N, 28, 28) in [0, 1] as this model's input (N, *input_shape)."""
        return self._predictor.shape(digits)

    def predict_tensor(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for a batch already shaped ``(N, *input_shape)``, values in [0, 1]."""
        with self._lock:
            return self._predictor.predict_shaped(x)

    def predict(self, digits: list[Digit], top_k: int = 3, with_images: bool = False) -> dict[str, Any]:
        """Predict every readable digit; the result has the same keys as ``predict --json``.

        Args:
            digits: from :func:`read_digit`, in input order; unreadable ones become ``failures``.
            top_k: how many digits to rank per input (1..10, checked by the caller).
            with_images: add ``image``, the model's 28x28 input as a PNG data URL, to each prediction.
                A digit read with its panels gets ``panels`` too: ``{"caption", "image"}`` each.
        """
        from digitkit.inference.batch import answer
        from digitkit.inference.status import DEFAULT_MIN_CONFIDENCE

        readable = [d for d in digits if d.image is not None]
        predictions = []
        if readable:
            with self._lock:
                judged = self._predictor.answer(np.stack([d.image for d in readable]))
            for digit, row, status in zip(readable, judged.probabilities, judged.statuses):
                result = answer(digit.name, row, digit.image, top_k, None, status).to_dict()
                if with_images:
                    result["image"] = png_data_url(digit.image)
                if digit.panels is not None:
                    result["panels"] = [{"caption": caption, "image": png_data_url(panel)}
                                        for caption, panel in digit.panels]
                predictions.append(result)
        return {
            "model": self.info,
            "min_confidence": None,
            "threshold": judged.threshold if readable else DEFAULT_MIN_CONFIDENCE,
            "predictions": predictions,
            "failures": [{"input": d.name, "error": d.error} for d in digits if d.image is None],
        }


def png_data_url(image: np.ndarray) -> str:
    """A small float image in [0, 1] as a ``data:image/png;base64,...`` URL (about 400 bytes
    for a 28x28 digit, a few kilobytes for a panel)."""
    from PIL import Image

    grey = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey, mode="L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def list_models() -> list[dict[str, Any]]:
    """What the page's model picker offers: the home's completed runs, then pretrained models.

    Each entry has ``id`` (the reference to pass as ``model``), ``model``, ``kind``
    (``"run"`` or ``"pretrained"``) and, when known, ``accuracy`` and ``created``.
    """
    return [entry for entry, _ in listed_models()]


def listed_models() -> list[tuple[dict[str, Any], str | None]]:
    """:func:`list_models`' entries, each with its run folder (``None`` for pretrained ones)."""
    from digitkit import runs

    found = []
    for run in reversed(runs.readable_runs()):
        try:
            manifest = run.manifest
            if manifest.get("status") != "completed" or not run.model_path.exists():
                continue
            metrics = run.read(runs.METRICS) or {}
        except runs.RunFileError:  # a damaged metrics file leaves the run out of the picker
            continue
        accuracy = metrics.get("accuracy")
        found.append(({"id": run.id, "model": manifest.get("model"), "kind": "run",
                       "label": manifest.get("name"), "created": manifest.get("started"),
                       "accuracy": round(float(accuracy), 4) if isinstance(accuracy, (int, float)) else None},
                      str(run.path)))
    from digitkit import pretrained

    for name in pretrained.names():
        found.append(({"id": f"{name}@pretrained", "model": name, "kind": "pretrained", "label": None,
                       "created": None, "accuracy": pretrained.card(name).get("test_accuracy")}, None))
    return found
