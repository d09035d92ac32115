"""One labelling session: which picture is on screen, and what each key does to the store.

The terminal UI (:mod:`digitkit.render.labelling`) only draws :class:`Review` and turns key
presses into calls on it; everything here works (and is tested) without a terminal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from digitkit.labelling.ahead import Ahead, Picture
from digitkit.labelling.store import LabelStore


@dataclass
class Tally:
    """What this session decided."""

    typed: int = 0
    accepted: int = 0
    auto: int = 0
    skipped: int = 0
    undone: int = 0
    key_ms: list[float] = field(default_factory=list)  # key press to next picture on screen
    failures: list[tuple[str, str]] = field(default_factory=list)

    def count(self, how: str, step: int = 1) -> None:
        setattr(self, how, getattr(self, how) + step)


class Review:
    """Pictures least confident first; ``label``/``accept``/``skip``/``back`` move through them.

    Args:
        store: where decisions go.
        ahead: the scored pictures.
        accept_above: answers at least this confident are labelled without asking.
    """

    def __init__(self, store: LabelStore, ahead: Ahead, *, accept_above: float | None = None,
                 tally: Tally | None = None) -> None:
        self.store, self.ahead, self.accept_above = store, ahead, accept_above
        self.tally = tally or Tally()
        self.history: list[tuple[Picture, str]] = []  # decided in this session, newest last
        self.current: Picture | None = None
        self.shown_at = 0.0

    def advance(self, timeout: float | None = None) -> Picture | None:
        """Move to the next picture that needs a person (``None``: none left)."""
        while True:
            picture = self.ahead.next(timeout)
            if picture is None or not self._confident(picture):
                self.current = picture
                self.shown_at = time.perf_counter()
                return picture
            self._decide(picture, picture.best, "auto")

    def _confident(self, picture: Picture) -> bool:
        return self.accept_above is not None and picture.confidence >= self.accept_above

    def _decide(self, picture: Picture, label: int | None, how: str) -> None:
        # labels.csv is rewritten (two fsyncs) after the next picture is drawn: see persist()
        self.store.put(picture.source, label, picture.best, picture.confidence, how, now=False)
        self.tally.count(how)
        self.history.append((picture, how))

    def label(self, digit: int) -> Picture | None:
        """The current picture is ``digit``; returns the next."""
        if self.current is not None:
            self._decide(self.current, digit, "typed")
        return self.advance()

    def accept(self) -> Picture | None:
        """The model's answer is right; returns the next."""
        if self.current is not None:
            self._decide(self.current, self.current.best, "accepted")
        return self.advance()

    def skip(self) -> Picture | None:
        if self.current is not None:
            self._decide(self.current, None, "skipped")
        return self.advance()

    def back(self) -> Picture | None:
        """Undo the last decision of this session and show that picture again."""
        if not self.history:
            return self.current
        picture, how = self.history.pop()
        self.store.undo(picture.source, now=False)
        self.tally.count(how, -1)
        self.tally.undone += 1
        if self.current is not None:
            self.ahead.put_back(self.current)
        self.current = picture
        self.shown_at = time.perf_counter()
        return picture

    def persist(self) -> None:
        """Write ``labels.csv`` now. The reviewer calls it once the next picture is on screen,
        so the fsyncs do not delay it; a kill in between loses the last row only (its picture
        is asked again on resume, and placed again under the same name)."""
        self.store.flush()

    def progress(self) -> dict[str, Any]:
        """What the progress line shows."""
        counts = self.store.counts()
        return {"labelled": sum(counts), "skipped": self.store.skipped, "left": self.ahead.pending()
                + (1 if self.current is not None else 0), "counts": counts,
                "scoring": not self.ahead.finished}
