"""Which models a client may ask for: exactly the names ``GET /api/models`` lists.

A request's ``model`` is looked up in this list and turned into the model's location in the
digitkit home (a run folder) or the shipped weights. It is never resolved like the CLI's
MODEL argument, which tries paths relative to the server's working folder and ``~user``
homes: a client must not learn whether a file or a user exists, nor make the server open one.
Anything not listed is the same 404, whatever exists on disk.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from digitkit.errors import UnknownModelError

# Listing the home reads every run's manifest; a busy server asks often, runs change rarely.
FRESH_FOR_S = 2.0
MAX_NAME = 200
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._-]{0,79}")


@dataclass(frozen=True)
class Choice:
    """A listed model: ``key`` identifies what would be loaded (one engine per key)."""

    key: str
    run_folder: str | None = None
    pretrained: str | None = None

    def load_ref(self):
        """The :class:`~digitkit.inference.refs.ModelRef` to load, never a cwd-relative name."""
        from digitkit.inference import refs

        if self.run_folder is not None:
            return refs.resolve(self.run_folder)  # an absolute run folder inside the home
        from digitkit import pretrained

        name = self.pretrained
        return refs.ModelRef(name, None, pretrained.path(name, "keras"), pretrained.path(name, "tflite"),
                             pretrained=True)


def unknown(reference: str) -> UnknownModelError:
    """The one answer for everything that is not listed: it never depends on the disk."""
    # Only a plain name is repeated: the answer to a path never depends on it, let alone on the disk.
    shown = f" {reference!r}" if PLAIN_NAME.fullmatch(reference) else ""
    return UnknownModelError(f"unknown model{shown}: give an id or a model name from GET /api/models")


class Catalog:
    """Listed names to :class:`Choice`, refreshed at most every :data:`FRESH_FOR_S` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._choices: dict[str, Choice] = {}
        self._listing: list[dict[str, Any]] = []
        self._at = float("-inf")

    def listing(self) -> list[dict[str, Any]]:
        """The ``models`` of ``GET /api/models``."""
        self._refresh()
        return self._listing

    def choose(self, reference: str) -> Choice:
        """The listed model ``reference`` names.

        Raises:
            UnknownModelError: ``reference`` is not a listed run id, model name or
                ``NAME@pretrained`` (the same message whether or not it exists on disk).
        """
        if not isinstance(reference, str) or len(reference) > MAX_NAME:
            raise unknown(str(reference)[:MAX_NAME])
        self._refresh()
        choice = self._choices.get(reference)
        if choice is None:
            raise unknown(reference)
        return choice

    def _refresh(self) -> None:
        with self._lock:
            if time.monotonic() - self._at < FRESH_FOR_S:
                return
            from digitkit.serve.engine import listed_models

            listed = listed_models()
            self._listing = [entry for entry, _ in listed]
            self._choices = choices_of(listed)
            self._at = time.monotonic()


def choices_of(listing: list[tuple[dict[str, Any], str | None]]) -> dict[str, Choice]:
    """Every name a client may use: run ids, ``NAME@pretrained``, and model names (the newest
    completed run of that model, else its shipped weights, as the CLI resolves a name)."""
    choices: dict[str, Choice] = {}
    by_model: dict[str, Choice] = {}
    for entry, folder in listing:  # runs come newest first, then pretrained models
        if folder is not None:
            choice = Choice(f"run:{folder}", run_folder=os.path.abspath(folder))
        else:
            choice = Choice(f"pretrained:{entry['model']}", pretrained=entry["model"])
        choices[entry["id"]] = choice
        if entry.get("model"):
            by_model.setdefault(entry["model"], choice)
    for name, choice in by_model.items():
        choices.setdefault(name, choice)
    return choices
