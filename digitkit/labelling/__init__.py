"""Labelling pictures of the user's own handwriting, for fine-tuning (``digitkit label``).

:func:`label_pictures` scores the pictures with a model (:mod:`~digitkit.labelling.ahead`,
in a background thread, least confident first), and records each decision at once in
``DIR/<digit>/`` and ``DIR/labels.csv`` (:mod:`~digitkit.labelling.store`), so a session can
stop at any key and resume. The decisions come from ``accept_above`` (answers at least that
confident are taken as they are) and from a reviewer, a callable given the
:class:`~digitkit.labelling.review.Review` (the terminal UI of ``digitkit label``).
The folder is a dataset for ``digitkit fit MODEL --init-from REF --dataset DIR``.

    >>> result = label_pictures(["scans/"], "mine/", accept_above=0.99)   # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from digitkit.errors import InputError, UsageError
from digitkit.labelling.review import Review, Tally
from digitkit.labelling.store import LABELS_CSV, LabelStore

__all__ = ["label_pictures", "LabelResult", "LabelStore", "Review"]

DEFAULT_MODEL = "cnn-best@pretrained"


@dataclass
class LabelResult:
    """What a labelling session did, and where the labels are."""

    out: Path
    counts: list[int]
    tally: Tally
    skipped_total: int
    left: int
    already: int
    model: str

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "labels_csv": str(self.out / LABELS_CSV), "model": self.model,
                "counts": {str(d): n for d, n in enumerate(self.counts)}, "labelled": sum(self.counts),
                "this_session": {"typed": self.tally.typed, "accepted": self.tally.accepted,
                                 "auto": self.tally.auto, "skipped": self.tally.skipped,
                                 "undone": self.tally.undone},
                "skipped": self.skipped_total, "left": self.left, "decided_before": self.already,
                "unreadable": [{"input": name, "error": message} for name, message in self.tally.failures]}


def label_pictures(pictures: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *,
                   model: str = DEFAULT_MODEL, accept_above: float | None = None,
                   reviewer: Callable[[Review], None] | None = None,
                   on_failure: Callable[[str, str], None] | None = None) -> LabelResult:
    """Label ``pictures`` (files, folders, globs) into ``out``.

    Args:
        pictures: what to label; pictures decided in an earlier session are left out.
        out: the labelled folder (created; refused when it cannot be written).
        model: whose answers are shown and accepted.
        accept_above: label answers at least this confident without asking (0 < P <= 1).
        reviewer: asks a person about the others; without one they are left for later.
        on_failure: called with ``(name, message)`` for each unreadable picture (skipped).

    Raises:
        UsageError: a bad ``accept_above``, an unwritable ``out``.
        InputError: nothing to label (no picture found), a foreign ``labels.csv``.
        ModelRefusedError / UnknownModelError: the model.
    """
    from digitkit.inference.batch import Failure, expand_inputs
    from digitkit.labelling.ahead import Ahead

    if accept_above is not None and not 0 < accept_above <= 1:
        raise UsageError(f"expected --accept-above 0 < P <= 1. Received: accept_above={accept_above}")
    store = LabelStore(out)
    tally = Tally()

    def failed(name: str, message: str) -> None:
        tally.failures.append((name, message))
        if on_failure is not None:
            on_failure(name, message)

    inside = os.path.abspath(store.out) + os.sep
    sources, already = [], 0
    for name, source in expand_inputs(list(pictures)):
        if isinstance(source, Failure):
            failed(name, source.message)
        elif not isinstance(source, (str, os.PathLike)) or os.path.abspath(os.fspath(source)).startswith(inside):
            continue  # the labelled copies themselves, when `out` is inside a folder given
        elif store.decided(source):
            already += 1
        else:
            sources.append(os.fspath(source))
    if not sources and not already:
        first = f" (first: {tally.failures[0][0]}: {tally.failures[0][1]})" if tally.failures else ""
        raise InputError(f"no pictures to label{first}", hint="give image files, folders or glob patterns")
    ahead = Ahead(sources, model, on_failure=failed)
    review = Review(store, ahead, accept_above=accept_above, tally=tally)
    if reviewer is not None:
        try:
            reviewer(review)
        finally:
            review.persist()
        left = ahead.pending() + (1 if review.current is not None else 0)
    else:
        left = 0
        while review.advance() is not None:  # not confident enough: left for a person
            left += 1
        review.persist()
    return LabelResult(store.out, store.counts(), tally, store.skipped, max(left, 0), already, ahead.model_label)
