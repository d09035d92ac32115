"""Pictures read and scored ahead, in a background thread, handed out least confident first.

The reviewer must show the next picture within 50 ms of a key press, however many pictures
there are; reading and scoring 10,000 files takes far longer than that. So a thread streams
them through :func:`digitkit.inference.batch.stream` (chunks, decoding in worker processes)
and keeps the answers in a heap ordered by confidence: :meth:`Ahead.next` pops the least
confident picture scored so far, waiting only until the first chunk is scored. The order is
exact once scoring has finished, and close to it before.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np


@dataclass(order=True)
class Picture:
    """One scored picture: the model's answer, its top 3 and the digit as the model saw it."""

    confidence: float
    order: int
    source: str = field(compare=False)
    name: str = field(compare=False)
    best: int = field(compare=False)
    top_k: list[tuple[int, float]] = field(compare=False)
    image: np.ndarray | None = field(compare=False, repr=False)
    extra: dict[str, Any] = field(compare=False, default_factory=dict)


class Ahead:
    """Scores ``sources`` in a background thread.

    Args:
        sources: picture paths (already expanded, not yet decided).
        model: a MODEL argument for :func:`digitkit.inference.load`.
        on_failure: called (from the thread) with ``(name, message)`` for an unreadable picture.
    """

    def __init__(self, sources: Sequence[str], model: str, *, on_failure: Callable[[str, str], None] | None = None,
                 backend: str = "auto") -> None:
        from digitkit.inference.batch import default_workers, stream

        self.total = len(sources)
        self.scored = self.failed = 0
        self._heap: list[Picture] = []
        self._cond = threading.Condition()
        self._done = False
        self._error: BaseException | None = None
        self._on_failure = on_failure
        # One decoding process at most: on a 2-core machine the other core stays free for the
        # reviewer, whose key-to-screen time (not the scoring rate) is what the user feels.
        workers = min(1, default_workers(len(sources)))
        self._stream = stream(list(sources), model, top_k=3, keep_images=True, backend=backend,
                              workers=workers) if sources else None
        self._sources = list(sources)
        self._thread = threading.Thread(target=self._work, name="digitkit-label-ahead", daemon=True)
        self._thread.start()

    @property
    def model_label(self) -> str:
        return self._stream.predictor.ref.label if self._stream is not None else ""

    def _work(self) -> None:
        from digitkit.inference.batch import Failure

        try:
            if self._stream is not None:
                for index, answer in zip(itertools.count(), self._stream):
                    if isinstance(answer, Failure):
                        self.failed += 1
                        if self._on_failure is not None:
                            self._on_failure(answer.input, answer.message)
                        continue
                    extra = {k: v for k, v in answer.to_dict().items() if k in ("status", "calibrated")}
                    picture = Picture(float(answer.confidence), index, self._sources[index], answer.input,
                                      int(answer.best), list(answer.top_k), answer.image, extra)
                    with self._cond:
                        heapq.heappush(self._heap, picture)
                        self.scored += 1
                        self._cond.notify_all()
        except BaseException as exc:  # handed to the reader, who raises it in the main thread
            self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    @property
    def finished(self) -> bool:
        return self._done

    def next(self, timeout: float | None = None) -> Picture | None:
        """The least confident picture scored so far (``None``: all handed out).

        Raises:
            DigitkitError: whatever stopped the scoring thread (the model refused...).
        """
        with self._cond:
            while not self._heap and not self._done:
                if not self._cond.wait(timeout):
                    return None
            if self._error is not None and not self._heap:
                raise self._error
            return heapq.heappop(self._heap) if self._heap else None

    def put_back(self, picture: Picture) -> None:
        """Return a picture (after an undo) so it comes again first."""
        with self._cond:
            heapq.heappush(self._heap, picture)
            self._cond.notify_all()

    def pending(self) -> int:
        """Pictures not yet handed out (scored or still to score)."""
        with self._cond:
            return len(self._heap) + (self.total - self.scored - self.failed)
