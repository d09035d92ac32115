"""Predicting the digit in image files: streamed, in chunks, decoding on every core.

:func:`stream` expands the inputs (files, folders recursively, globs, ``-`` for stdin, raw
bytes), loads the model once (:func:`digitkit.inference.load`), then pushes the inputs
through decode → preprocess → model in chunks and yields one answer per input, in input
order, as soon as its chunk is done. Memory stays flat however many files there are: only
a few chunks are in flight. With more than :data:`POOL_MIN_INPUTS` inputs, decoding and
preprocessing run in a process pool (one worker per core) while the model runs here.

A file that cannot be read becomes a :class:`Failure` in its place; the others are still
predicted. :func:`predict` collects a stream into a :class:`PredictResult`.
"""

from __future__ import annotations

import glob
import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, Union

import numpy as np

from digitkit.errors import InputError, NotSure, PartialFailure, UsageError
from digitkit.inference.status import DEFAULT_MIN_CONFIDENCE
from digitkit.intake import display_name

STDIN = "-"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
DEFAULT_MODEL = "cnn"
GLOB_CHARS = set("*?[")
CHUNK = 128  # files per chunk: amortises a model call and a process hop, keeps memory small
POOL_MIN_INPUTS = 256  # below this, starting worker processes costs more than it saves
IN_FLIGHT_PER_WORKER = 3
GROUP = 32  # pictures decoded before they are preprocessed (see load_chunk)
GROUP_BYTES = 16 * 1024 * 1024  # ... or fewer, when they hold this much: memory stays bounded

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
        probabilities: all class probabilities (calibrated; sum to 1).
        image: the digit as the model received it (side x side, [0, 1]); kept only when asked.
        status: ``ok``, ``unsure`` or ``not-a-digit`` (see :mod:`digitkit.inference.status`).
        panels: the picture as preprocessing found it, ``(caption, grey panel)`` pairs (see
            :func:`digitkit.intake.explain.panels`); only when asked (``panels=SIDE``).
    """

    input: str
    digit: int | None
    best: int
    confidence: float
    top_k: list[tuple[int, float]]
    probabilities: np.ndarray
    image: np.ndarray | None = field(default=None, repr=False)
    status: str = "ok"
    panels: list[tuple[str, np.ndarray]] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "digit": self.digit,
            "best": self.best,
            "confidence": round(self.confidence, 6),
            "status": self.status,
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
    notes: tuple[str, ...] = ()
    threshold: float = DEFAULT_MIN_CONFIDENCE
    answered_by: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": {"name": self.model_name, "run": self.run_id, "path": str(self.model_path),
                      "backend": self.backend, **self.answered_by},
            "min_confidence": self.min_confidence,
            "threshold": self.threshold,
            "predictions": [p.to_dict() for p in self.predictions],
            "failures": [f.to_dict() for f in self.failures],
        }

    def check(self) -> None:
        """Raise :class:`PartialFailure` (exit 7) when some inputs failed."""
        check_failures(len(self.predictions), len(self.failures))

    def check_strict(self) -> None:
        """Raise :class:`NotSure` (exit 8) when some answers are not ``ok`` (``--strict``)."""
        check_statuses(p.status for p in self.predictions)


def check_statuses(statuses: Iterable[str]) -> None:
    """Raise :class:`NotSure` when some statuses are not ``ok``, counting each kind."""
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    bad = {k: v for k, v in counts.items() if k != "ok"}
    if bad:
        said = ", ".join(f"{v} {k}" for k, v in sorted(bad.items()))
        raise NotSure(f"--strict: {said} of {sum(counts.values())} answers", hint="a person should look at them")


def check_failures(predicted: int, failed: int, verb: str = "predicted") -> None:
    """Raise :class:`PartialFailure` (exit 7) when some inputs failed (could not be ``verb``)."""
    if failed:
        raise PartialFailure(f"{failed} of {predicted + failed} inputs could not be {verb}",
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
            files = _image_files(text)
            # Plain strings: 10,000 Path objects cost a tenth of a second here, before any
            # work begins. (A listed path starts with its folder: never "-", never stdin.)
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


def _image_files(folder: str) -> list[str]:
    """Image files under ``folder``, recursively (not into linked folders), sorted by path
    component like ``sorted(Path.rglob(...))``, with one ``scandir`` per folder (no stat per
    file: 10,000 Path objects cost a third of a second before any work began)."""
    found, pending = [], [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        elif os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES and entry.is_file():
                            found.append(entry.path)
                    except OSError:  # vanished or unreadable: as rglob, skip it
                        continue
        except OSError:
            continue
    return sorted(found, key=lambda p: p.split(os.sep))


def _read_stdin() -> bytes:
    from digitkit.intake import read_bytes

    return read_bytes(STDIN)  # capped like any file: `predict - < /dev/zero` cannot fill memory


def _short_message(name: str, exc: InputError) -> str:
    message = exc.message
    if message.startswith(name + ": ") or message.startswith(name + " "):
        return message[len(name):].lstrip(": ").strip()
    if message.startswith("<bytes>"):
        return message[len("<bytes>"):].lstrip(": ").strip()
    return message


def load_chunk(items: list[tuple[str, Any]], preprocess: bool, panels: int = 0,
               ) -> tuple[np.ndarray, list[int], list[Failure | None], list[list] | None]:
    """Decode and preprocess a chunk of inputs (runs in a worker process).

    Inputs are decoded a group at a time (:data:`GROUP` pictures, or :data:`GROUP_BYTES`),
    then the group is preprocessed: each stage's code and tables stay in the CPU's caches,
    which made the two stages ~1.2x faster than alternating them file by file.

    Args:
        panels: also the panels that explain each digit, at most this many pixels a side,
            from the same pass (:func:`digitkit.intake.explain.digit_and_panels`); 0: none.

    Returns:
        The digits that loaded (K, 28, 28) float32, their positions in the chunk, one entry
        per input (``None`` when it loaded, else its :class:`Failure`), and each digit's
        panels (``None`` unless asked).
    """
    from digitkit.intake import digit_from, read_picture

    digits, positions, outcome = [], [], [None] * len(items)
    shown: list[list] | None = [] if panels else None
    group: list[tuple[int, str, np.ndarray]] = []
    held = 0

    def finish_group() -> None:
        for position, name, grey in group:
            try:
                if shown is None:
                    digits.append(digit_from(name, grey, preprocess=preprocess))
                else:
                    digit, found = _explained(name, grey, panels, preprocess)
                    digits.append(digit)
                    shown.append(found)
            except InputError as exc:
                outcome[position] = Failure(items[position][0], _short_message(name, exc))
                continue
            positions.append(position)
        group.clear()

    for position, (name, source) in enumerate(items):
        if isinstance(source, Failure):
            outcome[position] = source
            continue
        try:
            read_name, grey = read_picture(source, colour=True)
        except InputError as exc:
            outcome[position] = Failure(name, _short_message(name, exc))
            continue
        group.append((position, read_name, grey))
        held += grey.nbytes
        if len(group) >= GROUP or held >= GROUP_BYTES:
            finish_group()
            held = 0
    finish_group()
    stacked = np.stack(digits).astype(np.float32, copy=False) if digits else np.zeros((0, 28, 28), np.float32)
    return stacked, positions, outcome, shown


def _explained(name: str, grey: np.ndarray, side: int, preprocess: bool) -> tuple:
    from digitkit.intake.explain import digit_and_panels

    try:
        return digit_and_panels(grey, side, preprocess=preprocess)
    except InputError as exc:  # named as digit_from names it
        raise InputError(f"{name}: {exc.message}", hint=exc.hint) from None


def load_inputs(items: list[tuple[str, Input | Failure]], preprocess: bool = True,
                ) -> tuple[list[tuple[str, np.ndarray]], list[Failure]]:
    """Load every input as a 28x28 digit; digits and failures each keep the input order."""
    items = [(n, _read_stdin() if s == STDIN else s) for n, s in items]
    digits, positions, outcome, _ = load_chunk(items, preprocess)
    return ([(items[p][0], digits[i]) for i, p in enumerate(positions)],
            [f for f in outcome if f is not None])


# --- the stream ---------------------------------------------------------------------------

class _Inline:
    """Runs chunks in this process, lazily, with the same interface as a pool."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return _Deferred(fn, args)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


class _Deferred:
    def __init__(self, fn: Callable[..., Any], args: tuple) -> None:
        self.fn, self.args = fn, args

    def result(self) -> Any:
        return self.fn(*self.args)


def worker_pool(workers: int) -> Any:
    """Decoding worker processes (predict's and read's): fork on Linux, started before the model."""
    import multiprocessing  # here, not at the top: the one-image path never needs a pool
    from concurrent.futures import ProcessPoolExecutor

    # fork starts a worker in milliseconds; the pool is made before the model is loaded, so
    # no runtime threads are forked. Elsewhere (macOS, Windows) spawn is the safe default.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and sys.platform == "linux" else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=_worker_init)


def _worker_init() -> None:
    """Ctrl-C is the main process's to handle (it stops the pool); a worker must not print a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's "raise KeyboardInterrupt" handler


def default_workers(count: int) -> int:
    """Worker processes for ``count`` inputs: one per core, none for small batches."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 0 if count < POOL_MIN_INPUTS or cores < 2 else cores


class PredictionStream:
    """Answers for many inputs, in input order, as they are ready.

    Iterate it to get one :class:`Prediction` or :class:`Failure` per input. ``total`` is the
    number of inputs; ``predictor`` the loaded model; ``predicted`` / ``failed`` count so far.
    """

    def __init__(self, items: list[tuple[str, Input | Failure]], predictor: Any, executor: Any, *,
                 top_k: int, min_confidence: float | None, preprocess: bool, keep_images: bool,
                 chunk: int, in_flight: int, panels: int = 0) -> None:
        self.items, self.predictor, self._executor = items, predictor, executor
        self.top_k, self.min_confidence, self.preprocess = top_k, min_confidence, preprocess
        self.keep_images, self.chunk, self.in_flight = keep_images, chunk, max(1, in_flight)
        self.panels = panels
        self.total = len(items)
        self.predicted = self.failed = 0
        self.chunk_done = False  # the answer just yielded is the last one ready: a writer flushes now
        self.started = time.perf_counter()

    def __iter__(self) -> Iterator[Prediction | Failure]:
        pending: deque[tuple[list[tuple[str, Any]], Any]] = deque()
        chunks = (self.items[i:i + self.chunk] for i in range(0, len(self.items), self.chunk))
        finished = False
        try:
            for part in chunks:
                pending.append((part, self._executor.submit(load_chunk, part, self.preprocess, self.panels)))
                if len(pending) >= self.in_flight:
                    yield from self._answer(*pending.popleft())
            while pending:
                yield from self._answer(*pending.popleft())
            finished = True
        finally:
            # Done: join the idle workers now, so no pool thread is left to race interpreter
            # exit. Interrupted or abandoned: cancel what is queued and do not wait for it.
            self._executor.shutdown(wait=finished, cancel_futures=not finished)

    def _answer(self, part: list[tuple[str, Any]], future: Any) -> Iterator[Prediction | Failure]:
        digits, positions, outcome, shown = future.result()
        judged = self.predictor.answer(digits, min_confidence=self.min_confidence)
        seen = None
        if self.keep_images and len(digits):
            side = self.predictor.input_spec.image_size
            seen = self.predictor.shape(digits).reshape(len(digits), side, side)
        ready = iter(answers([part[p][0] for p in positions], judged.probabilities, seen, self.top_k,
                             self.min_confidence, judged.statuses))
        if shown is not None:
            ready = iter([_with_panels(p, s) for p, s in zip(ready, shown)])
        last = len(outcome) - 1
        for position, failure in enumerate(outcome):
            self.chunk_done = position == last
            if failure is not None:
                self.failed += 1
                yield failure
                continue
            self.predicted += 1
            yield next(ready)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _with_panels(prediction: Prediction, panels: list) -> Prediction:
    prediction.panels = panels
    return prediction


def answer(name: str, probabilities: np.ndarray, image: np.ndarray | None, top_k: int,
           min_confidence: float | None, status: str | None = None) -> Prediction:
    """One input's :class:`Prediction` from its checked probabilities."""
    return answers([name], probabilities[None], None if image is None else image[None], top_k, min_confidence,
                   None if status is None else [status])[0]


def answers(names: Sequence[str], probabilities: np.ndarray, images: np.ndarray | None, top_k: int,
            min_confidence: float | None, statuses: Sequence[str] | None = None) -> list[Prediction]:
    """One :class:`Prediction` per row of checked probabilities (N, 10), ranked in one call.

    ``statuses`` come from :meth:`Predictor.answer`; without them the status follows the
    confidence alone (:func:`digitkit.inference.status.status_of` with no picture checks).
    """
    from digitkit.inference.status import status_of

    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :top_k]
    ranked = np.take_along_axis(probabilities, order, axis=1).tolist()  # Python floats, once
    if statuses is None:
        statuses = status_of(probabilities, None, min_confidence)
    found = []
    for i, (name, digits, scores) in enumerate(zip(names, order.tolist(), ranked)):
        confidence = scores[0]
        digit = None if min_confidence is not None and confidence < min_confidence else digits[0]
        found.append(Prediction(name, digit, digits[0], confidence, list(zip(digits, scores)), probabilities[i],
                                None if images is None else images[i], statuses[i]))
    return found


def _check_options(top_k: int, min_confidence: float | None) -> None:
    if not 1 <= top_k <= 10:
        raise UsageError(f"expected 1 <= top_k <= 10. Received: top_k={top_k}")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise UsageError(f"expected 0 <= min_confidence <= 1. Received: min_confidence={min_confidence}")


def stream(paths: Input | Iterable[Input], model: str = DEFAULT_MODEL, top_k: int = 3, *,
           min_confidence: float | None = None, preprocess: bool = True, backend: str = "auto",
           keep_images: bool = False, workers: int | None = None, chunk: int = CHUNK, panels: int = 0,
           tta: bool = False) -> PredictionStream:
    """Start predicting many inputs; iterate the result for answers in input order.

    The model is loaded (and refused, if it must be) before anything is yielded. Arguments
    as for :func:`predict`, plus:

    Args:
        keep_images: keep each digit as the model received it (``Prediction.image``).
        workers: decoding processes (default: one per core for large batches, 0 = here).
        chunk: inputs per chunk.
        panels: also keep the picture as preprocessing found it (``Prediction.panels``, for
            ``predict --show``), panels at most this many pixels a side, from the same pass
            over the bytes already read (stdin too); 0: none.
        tta: test-time augmentation (see :func:`predict`).
    """
    from digitkit.inference import load

    _check_options(top_k, min_confidence)
    if isinstance(paths, (str, bytes, bytearray, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise UsageError("expected at least one image, folder or pattern. Received: paths=[]")
    items = [(name, _read_stdin() if source == STDIN else source) for name, source in expand_inputs(paths)]
    workers = default_workers(len(items)) if workers is None else workers
    executor = worker_pool(workers) if workers > 0 else _Inline()
    try:
        # Beside a pool, the workers keep every core busy: one interpreter thread, so that
        # it never waits for a free core (nor spins on one a worker needs).
        predictor = load(model, backend, threads=1 if workers > 0 else None, tta=tta)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    return PredictionStream(items, predictor, executor, top_k=top_k, min_confidence=min_confidence,
                            preprocess=preprocess, keep_images=keep_images, chunk=max(1, chunk),
                            in_flight=IN_FLIGHT_PER_WORKER * max(workers, 1), panels=panels)


def predict(paths: Input | Iterable[Input], model: str = DEFAULT_MODEL, top_k: int = 3, *,
            min_confidence: float | None = None, preprocess: bool = True, backend: str = "auto",
            keep_images: bool = True, workers: int | None = None, tta: bool = False) -> PredictResult:
    """Predict the digit in each image.

    Args:
        paths: image files, folders (searched recursively), glob patterns, ``"-"`` for an
            image on stdin, or raw image bytes; one or many.
        model: a run id, a ``.keras``/``.tflite`` path, a run folder, ``<model>@pretrained``,
            or a model name (its latest completed run). Defaults to the latest ``cnn`` run.
        top_k: how many digits to rank per image (1..10).
        min_confidence: below this probability the answer is ``None`` (shown as "?").
        preprocess: ``False`` skips MNIST-style preprocessing (inputs already 28x28 MNIST-like).
        backend: ``"auto"``, ``"litert"`` or ``"keras"``.
        keep_images: keep each digit as the model received it (``Prediction.image``).
        workers: decoding processes (default: one per core for large batches).
        tta: test-time augmentation: each digit is also seen shifted by a pixel each way and
            scaled by 0.9 and 1.1, and the calibrated probabilities are averaged
            (:mod:`digitkit.inference.tta`; seven model calls per digit).

    Returns:
        A :class:`PredictResult`; ``result.failures`` lists inputs that were skipped and
        ``result.check()`` raises :class:`PartialFailure` when there are any.

    Raises:
        NothingPredicted: no input could be read (an ``InputError``, exit code 3).
        ModelRefusedError: the model is missing, broken, or outputs NaN.
    """
    answers = stream(paths, model, top_k, min_confidence=min_confidence, preprocess=preprocess, backend=backend,
                     keep_images=keep_images, workers=workers, tta=tta)
    predictions, failures = [], []
    for item in answers:
        (failures if isinstance(item, Failure) else predictions).append(item)
    if not predictions:
        raise NothingPredicted(failures or [Failure("input", "nothing to predict")])
    engine = answers.predictor
    return PredictResult(predictions, failures, engine.name, engine.path, engine.run_id, engine.backend,
                         min_confidence, time.perf_counter() - answers.started, engine.notes,
                         threshold=DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence,
                         answered_by=engine.answered_by())
