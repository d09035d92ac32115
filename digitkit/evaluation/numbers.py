"""Score a reader on pictures of numbers whose true text is known (``evaluate --numbers DIR``).

The set is a folder as ``scripts/make_numbers.py`` writes one: a ``labels.csv`` with the
columns ``file`` and ``text`` (and ``condition``, which groups the scores), or, without it,
every picture under the folder whose name ends in ``_DIGITS`` (``00012_4071.png`` is
"4071"). Every picture is read by :func:`digitkit.reading.stream`, the reader behind
``digitkit read``, so the figures are what a user of ``read --model`` gets. The scores come
from :func:`digitkit.evaluation.metrics.number_scores`; the schema is in docs/evaluate.md.
"""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from digitkit import runs
from digitkit._internal import atomic
from digitkit.errors import DigitkitError, InputError, UsageError
from digitkit.evaluation import metrics
from digitkit.evaluation.scoring import answered_by, save_or_note

SCHEMA = "digitkit.numbers-evaluation/1"
LABELS = "labels.csv"
NAME_TEXT = re.compile(r"_(\d{1,200})$")  # on the stem: make_numbers' CONDITION/NNNNN_TEXT.png
MAX_NUMBERS = 100_000  # a set larger than this is a mistake (a home folder), not a benchmark
MAX_LABELS_BYTES = 16 << 20
MAX_TEXT = 200  # the reader's own bound on digits in a picture
PICTURES_KEPT = 12  # misread numbers drawn by the report, most confident first
MISTAKES_LISTED = 200  # misread numbers named in the saved JSON; the counts are always exact
SHOWN_HEIGHT, SHOWN_WIDTH = 96, 768  # a kept picture is shrunk to fit: the npz stays small


@dataclass
class Labelled:
    """One picture of the set: where it is, its name relative to the set, its true text."""

    path: Path
    name: str
    text: str
    group: str = ""


@dataclass
class MistakePicture:
    """A misread number as the report draws it.

    Attributes:
        ink: the part of the picture holding the digits, bright ink on black (uint8), shrunk
            to at most :data:`SHOWN_HEIGHT` x :data:`SHOWN_WIDTH`.
        boxes: (k, 4) each digit read, ``x0, y0, x1, y1`` in ``ink``'s pixels.
        right: (k,) whether each digit read is right (only where the count is right).
    """

    ink: np.ndarray
    boxes: np.ndarray
    right: np.ndarray


@dataclass
class NumbersEvaluation:
    """What ``evaluate_numbers`` measured.

    Attributes:
        data: the ``numbers-evaluation.json`` document (see docs/evaluate.md).
        pictures: the first misread numbers (``data["mistakes"]`` entries with a ``picture``
            index point here), for the report.
        saved_to: the run folder the results were written to, or ``None``.
        notes: lines for the user (skipped pictures, the model's notes).
    """

    data: dict[str, Any]
    pictures: list[MistakePicture] = field(default_factory=list)
    saved_to: Path | None = None
    notes: tuple[str, ...] = ()

    @property
    def metrics(self) -> dict[str, Any]:
        return self.data["metrics"]

    def to_dict(self) -> dict[str, Any]:
        return self.data


def _inside(folder: Path, name: str) -> Path:
    path = (folder / name).resolve()
    if Path(name).is_absolute() or folder.resolve() not in path.parents:
        raise UsageError(f"{folder / LABELS}: {name!r} is not a file inside the folder",
                         hint="labels.csv names pictures by their path relative to its folder")
    return path


def _parent(name: str) -> str:
    """The group of a picture without a condition: its folder in the set ("" at the top)."""
    parent = Path(name).parent.as_posix()
    return "" if parent == "." else parent


def _from_labels(folder: Path) -> tuple[list[Labelled], list[str]]:
    """The set as labels.csv lists it (``file,text[,condition]``), read bounded."""
    data = runs.read_bytes(folder / LABELS, limit=MAX_LABELS_BYTES)
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{folder / LABELS} is not a readable CSV file: {exc}") from None
    if not rows or not {"file", "text"} <= set(rows[0]):
        raise InputError(f"{folder / LABELS} needs the columns file and text",
                         hint="as scripts/make_numbers.py writes it: file,text,condition,...")
    found, blank = [], 0
    for row in rows[:MAX_NUMBERS + 1]:
        text = metrics.squashed(row.get("text") or "")
        if not text or len(text) > MAX_TEXT:
            blank += 1
            continue
        name = row["file"] or ""
        found.append(Labelled(_inside(folder, name), name, text, row.get("condition") or _parent(name)))
    notes = [f"{blank} rows of {LABELS} skipped: no text, or more than {MAX_TEXT} characters"] if blank else []
    return found, notes


def _from_names(folder: Path) -> tuple[list[Labelled], list[str]]:
    """Every picture under ``folder`` whose name ends in ``_DIGITS``, found as ``read`` finds them."""
    from digitkit.inference.batch import expand_inputs

    found, unnamed = [], []
    for _, source in expand_inputs([str(folder)]):
        if not isinstance(source, (str, Path)):
            continue  # an empty folder: said below
        path = Path(source)
        match = NAME_TEXT.search(path.stem)
        name = path.relative_to(folder).as_posix()
        if match:
            found.append(Labelled(path, name, match.group(1), _parent(name)))
        else:
            unnamed.append(name)
        if len(found) > MAX_NUMBERS:
            break
    notes = [f"{len(unnamed)} pictures skipped: their names do not end in _DIGITS (e.g. {unnamed[0]})"] \
        if unnamed else []
    return found, notes


def labelled_numbers(folder: str | Path) -> tuple[list[Labelled], list[str]]:
    """The pictures of a set and their true texts, and notes on what was skipped.

    Raises:
        UsageError: not a folder, no labelled picture in it, or more than
            :data:`MAX_NUMBERS` of them.
        InputError: an unreadable ``labels.csv``.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of numbers",
                         hint="give a folder made by scripts/make_numbers.py, or of pictures named NAME_DIGITS.png")
    found, notes = (_from_labels if (folder / LABELS).is_file() else _from_names)(folder)
    if not found:
        raise UsageError(f"{folder} holds no picture whose true text is known",
                         hint="name each picture NAME_DIGITS.png (e.g. 00012_4071.png), or list them in "
                              "labels.csv with the columns file,text")
    if len(found) > MAX_NUMBERS:
        raise UsageError(f"{folder} holds more than {MAX_NUMBERS:,} numbers", hint="score a smaller folder")
    return found, notes


def _shown(picture: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``picture`` around ``boxes`` as ink (uint8), shrunk to fit; the boxes in it."""
    from PIL import Image

    from digitkit.reading.ink import ink_of

    ink = ink_of(picture)
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    pad = max(2, (y1 - y0) // 6)
    x0, y0 = max(0, x0 - pad), max(0, y0 - pad)
    x1, y1 = min(ink.shape[1], x1 + pad), min(ink.shape[0], y1 + pad)
    part = ink[y0:y1, x0:x1]
    scale = min(1.0, SHOWN_HEIGHT / part.shape[0], SHOWN_WIDTH / part.shape[1])
    size = (max(1, round(part.shape[1] * scale)), max(1, round(part.shape[0] * scale)))
    small = Image.fromarray(np.asarray(part, np.float32), "F").resize(size, Image.Resampling.BOX)
    shown = np.round(np.clip(np.asarray(small, np.float32), 0, 1) * 255).astype(np.uint8)
    moved = np.array([[(a - x0) * scale, (b - y0) * scale, (c - x0) * scale, (d - y0) * scale]
                      for a, b, c, d in boxes], np.float32)
    return shown, moved


def _picture(item: Labelled, reading: Any) -> MistakePicture | None:
    """A misread number drawn again from its file (through the same bounded intake)."""
    from digitkit.intake import read_picture

    if not reading.digits:
        return None
    try:
        _, grey = read_picture(item.path)
    except InputError:  # gone or changed since it was read: the report draws the others
        return None
    ink, boxes = _shown(grey, [d.box for d in reading.digits])
    digits = "".join(str(d.digit) for d in reading.digits)
    # Digit by digit only where the count is right, as number_scores compares them.
    right = [a == b for a, b in zip(digits, item.text)] if len(digits) == len(item.text) else [False] * len(digits)
    return MistakePicture(ink, boxes, np.array(right, bool))


def _mistakes(numbers: list[Labelled], answers: list[Any]) -> tuple[list[dict[str, Any]], list[MistakePicture]]:
    """Misread numbers, most confident first (unreadable pictures last), and the pictures of the first."""
    wrong = []
    for item, answer in zip(numbers, answers):
        read = getattr(answer, "text", None)
        if read is not None and metrics.squashed(read) == item.text:
            continue
        entry = {"input": item.name, "group": item.group, "true": item.text, "read": read,
                 "status": answer.status if read is not None else "failed",
                 "confidence": round(answer.confidence, 6) if read is not None else None}
        if read is None:
            entry["message"] = answer.message
        wrong.append((entry, item, answer))
    wrong.sort(key=lambda w: (w[0]["confidence"] is None, -(w[0]["confidence"] or 0.0)))
    pictures: list[MistakePicture] = []
    entries = []
    for entry, item, answer in wrong[:MISTAKES_LISTED]:
        entry["picture"] = None
        if len(pictures) < PICTURES_KEPT and entry["read"] is not None:
            drawn = _picture(item, answer)
            if drawn is not None:
                entry["picture"] = len(pictures)
                pictures.append(drawn)
        entries.append(entry)
    return entries, pictures


def _groups(numbers: list[Labelled], reads: list[str | None], statuses: list[str]) -> list[dict[str, Any]]:
    """Scores per group (make_numbers' conditions); none when the whole set is one group."""
    names = sorted({n.group for n in numbers})
    if len(names) < 2:
        return []
    rows = []
    for name in names:
        chosen = [i for i, n in enumerate(numbers) if n.group == name]
        scores = metrics.number_scores([numbers[i].text for i in chosen], [reads[i] for i in chosen],
                                       [statuses[i] for i in chosen])
        rows.append({"group": name, **{k: scores[k] for k in ("numbers", "accuracy", "digit_accuracy",
                                                               "count_errors", "not_ok", "ok_accuracy")}})
    return rows


def evaluate_numbers(model: str, folder: str | Path, *, top_k: int = 3, digits: int | None = None,
                     save: bool = True, backend: str = "auto", workers: int | None = None) -> NumbersEvaluation:
    """Read every picture of a set of numbers and score the reader against their true texts.

    Args:
        model: any model reference ``read --model`` takes (run id, file, name, ``NAME@pretrained``).
        folder: the set: a ``labels.csv`` (``file,text[,condition]``) or pictures named
            ``NAME_DIGITS.png``, searched recursively.
        top_k: as for :func:`digitkit.read` (the digits' runners-up; not scored).
        digits: read exactly this many digits in every picture (``read --digits``).
        save: write ``numbers-evaluation.json`` and ``numbers-mistakes.npz`` into the model's
            run, if it came from one.
        backend: ``"auto"``, ``"litert"`` or ``"keras"``.
        workers: planning processes, as :func:`digitkit.reading.stream`.

    Raises:
        UsageError: not a set of numbers (see :func:`labelled_numbers`), bad options.
        ModelRefusedError: the model is missing or broken.
    """
    from digitkit.reading import stream

    from digitkit.inference.batch import Failure

    numbers, notes = labelled_numbers(folder)
    # Only files that are there go to the reader: a missing name with '*' in it would be
    # expanded as a pattern, and the answers would no longer line up with the numbers.
    present = [i for i, n in enumerate(numbers) if n.path.is_file()]
    answers_stream = stream([str(numbers[i].path) for i in present] or [str(numbers[0].path)], model, top_k,
                            digits=digits, backend=backend, workers=workers)
    answers: list[Any] = [Failure(n.name, "no such file") for n in numbers]
    read_back = list(answers_stream) if present else []
    if len(read_back) != len(present):  # one answer per file given: anything else is a bug here
        raise DigitkitError(f"read {len(read_back)} answers for {len(present)} pictures")
    for i, answer in zip(present, read_back):
        answers[i] = answer
    seconds = time.perf_counter() - answers_stream.started
    reads = [getattr(a, "text", None) for a in answers]
    statuses = [a.status if r is not None else "failed" for a, r in zip(answers, reads)]
    scores = metrics.number_scores([n.text for n in numbers], reads, statuses)
    mistakes, pictures = _mistakes(numbers, answers)
    predictor = answers_stream.predictor
    data = {
        "schema": SCHEMA,
        "created": runs.now_iso(),
        **answered_by(predictor),
        "numbers": {"folder": str(Path(folder).expanduser().resolve()),
                    "labels": LABELS if (Path(folder).expanduser() / LABELS).is_file() else "file names",
                    "size": len(numbers), "digits_option": digits},
        "metrics": scores,
        "groups": _groups(numbers, reads, statuses),
        "mistakes": mistakes,
        "timing": {"seconds": seconds, "ms_per_number": 1000.0 * seconds / len(numbers)},
        "notes": notes,
    }
    evaluation = NumbersEvaluation(data, pictures, notes=(*predictor.notes, *notes))
    if save:
        save_or_note(evaluation, predictor.run, save_numbers_evaluation)
    return evaluation


def save_numbers_evaluation(evaluation: NumbersEvaluation, run: runs.Run) -> None:
    """Write ``numbers-mistakes.npz`` then ``numbers-evaluation.json`` (the JSON last: it marks completion)."""
    arrays: dict[str, np.ndarray] = {}
    for i, picture in enumerate(evaluation.pictures):
        arrays[f"ink_{i}"] = picture.ink.astype(np.uint8)
        arrays[f"boxes_{i}"] = picture.boxes.astype(np.float32).reshape(-1, 4)
        arrays[f"right_{i}"] = picture.right.astype(bool)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic.write_bytes(run.file(runs.NUMBERS_PICTURES), buffer.getvalue())
    run.write(runs.NUMBERS_EVALUATION, evaluation.data)
    evaluation.saved_to = run.path


def load_numbers_evaluation(run: runs.Run) -> NumbersEvaluation | None:
    """The reader evaluation saved in a run, or ``None`` when there is none (or it is unreadable)."""
    try:
        data = run.read(runs.NUMBERS_EVALUATION)
    except InputError:  # a damaged file is as good as none: the report leaves the section out
        return None
    if not data or data.get("schema") != SCHEMA:
        return None
    pictures: list[MistakePicture] = []
    try:
        raw = runs.read_bytes(run.file(runs.NUMBERS_PICTURES), limit=MAX_LABELS_BYTES)
        with np.load(io.BytesIO(raw), allow_pickle=False) as arrays:
            for i in range(PICTURES_KEPT):
                if f"ink_{i}" not in arrays:
                    break
                ink, boxes, right = arrays[f"ink_{i}"], arrays[f"boxes_{i}"], arrays[f"right_{i}"]
                if ink.ndim != 2 or ink.dtype != np.uint8 or boxes.shape != (len(right), 4):
                    break
                pictures.append(MistakePicture(ink, boxes, right))
    except (InputError, OSError, ValueError, KeyError):
        pictures = []  # the scores still stand; only the pictures are lost
    return NumbersEvaluation(data, pictures, saved_to=run.path, notes=tuple(data.get("notes", ())))
