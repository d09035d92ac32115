"""What reading a picture answers: the number as text, each digit's box, top-k and confidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from digitkit.inference import batch
from digitkit.inference.batch import Failure


@dataclass
class DigitRead:
    """One digit of a number.

    Attributes:
        box: ``(x0, y0, x1, y1)`` in the picture's pixels (as decoded), ends exclusive.
        digit: the most probable digit.
        confidence: its probability.
        top_k: ``(digit, probability)`` pairs, most probable first.
        line: which line of the picture (0 = top).
        image: the digit as the model received it (28x28), kept for the terminal view.
        status: ``ok``, ``unsure`` or ``not-a-digit``, by the rule of
            :mod:`digitkit.inference.status` on its calibrated probabilities, as ``predict``.
    """

    box: tuple[int, int, int, int]
    digit: int
    confidence: float
    top_k: list[tuple[int, float]]
    line: int = 0
    image: np.ndarray | None = field(default=None, repr=False)
    status: str = "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"box": list(self.box), "digit": self.digit, "confidence": round(self.confidence, 6),
                "status": self.status,
                "top_k": [{"digit": d, "probability": round(p, 6)} for d, p in self.top_k]}


@dataclass
class Reading:
    """The number in one picture.

    Attributes:
        input: the picture's printable name.
        text: the digits left to right; a space for a wide gap, ``\\n`` between lines, and
            ``.``, ``,``, ``-`` between digits only when marks are kept.
        confidence: the probability that every digit is right (the product of theirs).
        digits: one :class:`DigitRead` per digit, in reading order.
        size: ``(width, height)`` of the picture the boxes refer to.
        picture: the grey picture (for the terminal view); kept only when asked.
        status: ``ok`` when every digit is ``ok``; else ``not-a-digit`` when some digit
            is one, else ``unsure``.
        line_readers: which reader read each line with digits, top to bottom: ``classic``
            (cut and classified) or ``sequence`` (the CTC line reader,
            :mod:`digitkit.reading.sequence`).
        reader: ``classic`` or ``sequence`` when every line was read by it, else ``mixed``.
    """

    input: str
    text: str
    confidence: float
    digits: list[DigitRead]
    size: tuple[int, int]
    picture: np.ndarray | None = field(default=None, repr=False)
    line_readers: list[str] = field(default_factory=list)

    @property
    def reader(self) -> str:
        found = set(self.line_readers) or {"classic"}
        return found.pop() if len(found) == 1 else "mixed"

    @property
    def status(self) -> str:
        found = {d.status for d in self.digits}
        return "not-a-digit" if "not-a-digit" in found else "unsure" if "unsure" in found else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "text": self.text, "confidence": round(self.confidence, 6),
                "status": self.status, "size": list(self.size), "digits": [d.to_dict() for d in self.digits],
                "reader": self.reader, "line_readers": list(self.line_readers or ["classic"])}


# A picture that could not be read is a failure as predict reports one: same fields, same JSON.
ReadFailure = Failure


@dataclass
class ReadResult:
    """Readings in input order, failures, and which model answered."""

    readings: list[Reading]
    failures: list[ReadFailure]
    model_name: str
    model_path: Path
    run_id: str | None
    backend: str
    seconds: float = 0.0
    notes: tuple[str, ...] = ()

    def model_dict(self) -> dict[str, Any]:
        return {"name": self.model_name, "run": self.run_id, "path": str(self.model_path), "backend": self.backend}

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model_dict(), "readings": [r.to_dict() for r in self.readings],
                "failures": [f.to_dict() for f in self.failures]}

    def check(self) -> None:
        """Raise :class:`~digitkit.errors.PartialFailure` (exit 7) when some inputs failed."""
        check_failures(len(self.readings), len(self.failures))


def check_failures(read: int, failed: int) -> None:
    """Raise :class:`~digitkit.errors.PartialFailure` (exit 7) when some inputs failed."""
    batch.check_failures(read, failed, verb="read")


class NothingRead(batch.NothingPredicted):
    """No picture could be read; ``failures`` says why for each (exit code 3): predict's
    error, by the name ``read`` documents."""
