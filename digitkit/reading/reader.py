"""Reading the numbers in many pictures: one model load, one model call per chunk of pictures.

Inputs are expanded as for ``predict`` (files, folders, globs, ``-``, bytes), read through
the same bounded intake, planned (:func:`digitkit.reading.number.plan`), and a chunk's
candidate digits go to the model together, so a folder costs one call per
:data:`CHUNK` pictures. Answers come in input order, as each chunk is done.
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import Any, Iterable, Iterator

import numpy as np

from digitkit.errors import InputError, UsageError
from digitkit.reading.number import Plan, classic_choice, decide, plan, refine, verdicts
from digitkit.reading.results import NothingRead, ReadFailure, Reading, ReadResult

# cnn-best, not predict's cnn: the reader's figures, and the sequence reader it is paired with
# under reader="auto", are measured with it (docs/read.md).
DEFAULT_MODEL = "cnn-best"
CHUNK = 32
IN_FLIGHT_PER_WORKER = 3
STDIN = "-"


def _short(name: str, exc: InputError) -> str:
    message = exc.message
    for prefix in (name, "<bytes>"):
        if message.startswith(prefix):
            return message[len(prefix):].lstrip(": ").strip()
    return message


def plan_inputs(items: list[tuple[str, Any]], keep_pictures: bool, digits: int | None = None,
                ) -> list[Plan | ReadFailure]:
    """Read and plan each input (bounded intake); a :class:`ReadFailure` in place of each that fails."""
    from digitkit.inference.batch import Failure
    from digitkit.intake import read_picture

    planned: list[Plan | ReadFailure] = []
    for name, source in items:
        if isinstance(source, Failure):
            planned.append(ReadFailure(name, source.message))
            continue
        try:
            _, grey = read_picture(source)  # stdin reaches here as bytes: keep the name "<stdin>"
            planned.append(plan(name, grey, digits=digits, keep_picture=keep_pictures))
        except InputError as exc:
            planned.append(ReadFailure(name, _short(name, exc)))
    return planned


class ReadingStream:
    """Readings for many inputs, in input order, as they are ready (iterate it).

    ``total`` is the number of inputs; ``predictor`` the loaded model; ``read`` / ``failed``
    count so far; ``chunk_done`` is true after the last answer of a chunk; ``reader`` which
    reader answers (``auto`` resolved: :func:`digitkit.reading.sequence.resolve`).
    """

    def __init__(self, items: list[tuple[str, Any]], predictor: Any, *, top_k: int, digits: int | None,
                 keep_marks: bool, keep_pictures: bool, chunk: int, executor: Any = None, in_flight: int = 2,
                 reader: str = "auto") -> None:
        from digitkit.reading.sequence import resolve

        self.items, self.predictor = items, predictor
        self.reader = resolve(reader, _model_name(predictor))
        self._executor, self.in_flight = executor, max(1, in_flight)
        self.top_k, self.digits, self.keep_marks, self.keep_pictures = top_k, digits, keep_marks, keep_pictures
        self.chunk = chunk
        self.total = len(items)
        self.read = self.failed = 0
        self.chunk_done = False
        self.started = time.perf_counter()

    def __iter__(self) -> Iterator[Reading | ReadFailure]:
        chunks = [self.items[i:i + self.chunk] for i in range(0, self.total, self.chunk)]
        if self._executor is None:
            for part in chunks:
                yield from self._answer(plan_inputs(part, self.keep_pictures, self.digits))
            return
        # Pictures are planned in worker processes (the costly part) while the model runs here.
        pending: deque = deque()
        finished = False
        try:
            for part in chunks:
                pending.append(self._executor.submit(plan_inputs, part, self.keep_pictures, self.digits))
                if len(pending) >= self.in_flight:
                    yield from self._answer(pending.popleft().result())
            while pending:
                yield from self._answer(pending.popleft().result())
            finished = True
        finally:
            self._executor.shutdown(wait=finished, cancel_futures=not finished)

    def _answer(self, planned: list[Plan | ReadFailure]) -> Iterator[Reading | ReadFailure]:
        plans = [p for p in planned if isinstance(p, Plan)]
        rows = self._classify(plans)
        # Second pass: wide pieces the model was unsure of whole are cut and read again.
        refined = {}
        for p in plans:
            second = refine(p, rows[id(p)])
            if second is not None:
                refined[id(p)] = second
        if refined:
            rows.update(self._classify(list(refined.values())))
            planned = [refined.get(id(p), p) if isinstance(p, Plan) else p for p in planned]
        ready = [p for p in planned if isinstance(p, Plan)]
        scores = {id(p): v for p, v in zip(ready, verdicts(ready))}
        choices = {id(p): classic_choice(p, rows[id(p)], scores[id(p)], self.digits) for p in ready}
        sequences = self._sequence(ready, choices, rows)
        last = len(planned) - 1
        for position, item in enumerate(planned):
            self.chunk_done = position == last
            if isinstance(item, Plan):
                try:
                    item = decide(item, rows[id(item)], top_k=self.top_k, digits=self.digits,
                                  keep_marks=self.keep_marks, whole=scores[id(item)], reader=self.reader,
                                  sequence=sequences.get(id(item)), choice=choices[id(item)])
                except InputError as exc:
                    item = ReadFailure(item.name, _short(item.name, exc))
            if isinstance(item, ReadFailure):
                self.failed += 1
            else:
                self.read += 1
            yield item


    def _sequence(self, plans: list[Plan], choices: dict[int, Any], rows: dict[int, np.ndarray]) -> dict[int, list]:
        """Each plan's lines as the sequence model reads them (one call per chunk of lines), by
        ``id(plan)``; ``None`` for a line it was not asked to read. Nothing when the classic
        reader answers alone; under ``auto`` (without ``digits``), only the lines the classic
        reading is not clean on (:meth:`~digitkit.reading.number.ClassicChoice.clean`), so a
        picture of whole, sure digits never loads the sequence model."""
        if self.reader == "classic" or not plans:
            return {}
        every = self.reader == "sequence" or self.digits is not None
        asked = {id(p): [True] * len(p.lines) if every else [not c for c in choices[id(p)].clean(p, rows[id(p)])]
                 for p in plans}
        lines = [(line, p.ink) for p in plans for line, ask in zip(p.lines, asked[id(p)]) if ask]
        if not lines:
            return {}
        from digitkit.reading.sequence import read_lines

        found = iter(read_lines([line for line, _ in lines], [ink for _, ink in lines]))
        return {id(p): [next(found) if ask else None for ask in asked[id(p)]] for p in plans}

    def _classify(self, plans: list[Plan]) -> dict[int, np.ndarray]:
        """The candidates of ``plans`` not classified yet, in one model call; each plan's
        rows (all its candidates) by ``id(plan)``."""
        wanted = [p.images if p.known is None else p.images[np.isnan(p.known[:, 0])] for p in plans]
        stacked = [w for w in wanted if len(w)]
        probabilities = self.predictor.predict_proba(np.concatenate(stacked)) if stacked else np.zeros((0, 10))
        rows, offset = {}, 0
        for p, w in zip(plans, wanted):
            fresh = probabilities[offset:offset + len(w)]
            offset += len(w)
            if p.known is None:
                rows[id(p)] = fresh
            else:
                full = p.known.copy()
                full[np.isnan(full[:, 0])] = fresh
                rows[id(p)] = full
        return rows


def _model_name(predictor: Any) -> str | None:
    """The classifier's name (a :class:`~digitkit.inference.Predictor`, or serve's engine)."""
    name = getattr(predictor, "name", None)
    if name is None:
        info = getattr(predictor, "info", None)
        name = info.get("name") if isinstance(info, dict) else None
    return name


def _check(top_k: int, digits: int | None) -> None:
    if not 1 <= top_k <= 10:
        raise UsageError(f"expected 1 <= top_k <= 10. Received: top_k={top_k}")
    if digits is not None and not 1 <= digits <= 200:
        raise UsageError(f"expected 1 <= digits <= 200. Received: digits={digits}")


def stream(paths: Any, model: str = DEFAULT_MODEL, top_k: int = 3, *, digits: int | None = None,
           keep_marks: bool = False, backend: str = "auto", keep_pictures: bool = False,
           chunk: int = CHUNK, workers: int | None = None, reader: str = "auto") -> ReadingStream:
    """Start reading many pictures; iterate the result for answers in input order.

    The model is loaded (and refused, if it must be) before anything is read. Arguments as
    for :func:`read`, plus ``keep_pictures`` (keep each grey picture, for drawing it) and
    ``chunk`` (pictures per model call) and ``workers`` (planning processes; default one
    per core for more than 256 pictures, 0 = here).
    """
    from digitkit.inference import load
    from digitkit.inference.batch import default_workers, expand_inputs, worker_pool
    from digitkit.intake import read_bytes
    from digitkit.reading.sequence import resolve

    _check(top_k, digits)
    resolve(reader, None)  # an unknown reader is refused before anything is loaded
    if isinstance(paths, (str, bytes, bytearray, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise UsageError("expected at least one picture, folder or pattern. Received: paths=[]")
    # stdin is read once, capped like any file, before the pictures are shared out
    items = [(name, read_bytes(STDIN) if source == STDIN else source) for name, source in expand_inputs(paths)]
    workers = default_workers(len(items)) if workers is None else workers
    executor = worker_pool(workers) if workers > 0 else None
    try:
        # Beside a pool the workers keep every core busy: one interpreter thread here.
        predictor = load(model, backend, threads=1 if workers > 0 else None)
        answers = ReadingStream(items, predictor, top_k=top_k, digits=digits, keep_marks=keep_marks,
                                keep_pictures=keep_pictures, chunk=max(1, chunk), executor=executor,
                                in_flight=IN_FLIGHT_PER_WORKER * max(workers, 1), reader=reader)
        if answers.reader == "sequence":
            from digitkit.reading import sequence

            sequence.model()  # loaded (and refused, if it must be) before anything is read
            # (under auto it loads at the first line that needs it: a picture of whole, sure
            # digits never does)
    except BaseException:
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        raise
    return answers


def read(paths: Any, model: str = DEFAULT_MODEL, top_k: int = 3, *, digits: int | None = None,
         keep_marks: bool = False, backend: str = "auto", keep_pictures: bool = False,
         reader: str = "auto") -> ReadResult:
    """Read the number in each picture: every digit found, ordered, read by the model.

    Args:
        paths: pictures, folders (searched recursively), glob patterns, ``"-"`` for stdin,
            or raw image bytes; one or many.
        model: any model reference ``predict`` takes (run id, file, name, ``NAME@pretrained``).
        top_k: how many digits to rank for each digit found (1..10).
        digits: when the count is known: read exactly this many digits (the best split).
        keep_marks: keep ``.``, ``,`` and ``-`` between digits in the text.
        backend: ``"auto"``, ``"litert"`` or ``"keras"``.
        keep_pictures: keep each grey picture (``Reading.picture``) and digit images.
        reader: ``"auto"`` (with cnn-best: the sequence reader for lines where digits run
            together or the two readers count differently; where they count the same, the
            reading both models together find likelier; with any other model: classic),
            ``"classic"`` (cut and classify) or ``"sequence"`` (the CTC line reader for every
            line); see :mod:`digitkit.reading.sequence`.

    Returns:
        A :class:`ReadResult`; ``result.check()`` raises ``PartialFailure`` when some failed.

    Raises:
        NothingRead: no picture could be read (an ``InputError``, exit code 3).
        ModelRefusedError: the model is missing or broken.
    """
    answers = stream(paths, model, top_k, digits=digits, keep_marks=keep_marks, backend=backend,
                     keep_pictures=keep_pictures, reader=reader)
    readings: list[Reading] = []
    failures: list[ReadFailure] = []
    for item in answers:
        (failures if isinstance(item, ReadFailure) else readings).append(item)
    if not readings:
        raise NothingRead(failures or [ReadFailure("input", "nothing to read")])
    engine = answers.predictor
    return ReadResult(readings, failures, engine.name, engine.path, engine.run_id, engine.backend,
                      time.perf_counter() - answers.started, engine.notes)


def read_many(items: Iterable[tuple[str, np.ndarray]], predictor: Any, **options: Any) -> list[Reading | ReadFailure]:
    """Read grey pictures already in memory with a loaded predictor (benchmarks, the server).

    Options as for :func:`read`: ``top_k``, ``digits``, ``keep_marks``, ``reader``.
    """
    planned: list[Plan | ReadFailure] = []
    for name, grey in items:
        try:
            planned.append(plan(name, grey, digits=options.get("digits")))
        except InputError as exc:
            planned.append(ReadFailure(name, _short(name, exc)))
    return read_planned(planned, predictor, **options)


def read_planned(planned: list[Plan | ReadFailure], predictor: Any, *, top_k: int = 3, digits: int | None = None,
                 keep_marks: bool = False, reader: str = "auto") -> list[Reading | ReadFailure]:
    """Classify and decide planned pictures (:func:`plan_inputs`), one model call per pass."""
    stream_ = ReadingStream([], predictor, top_k=top_k, digits=digits, keep_marks=keep_marks, keep_pictures=False,
                            chunk=CHUNK, reader=reader)
    return list(stream_._answer(planned))
