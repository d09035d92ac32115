"""Reading one picture in two halves around the model call, so many pictures share one call.

:func:`plan` finds the candidate digits of a picture (ink, lines, atoms, candidates) and
makes their 28x28 images; the caller classifies the images of many plans at once; then
:func:`decide` chooses the digits with those probabilities and writes the text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from digitkit.errors import InputError
from digitkit.intake.strokes import median  # np.median imports numpy.ma (~10 ms of a cold read)
from digitkit.reading import ink as inking
from digitkit.reading.components import Piece, pieces
from digitkit.reading.layout import CUT_WIDTH, REFINE_WIDTH, Line, dense, deslant, line_of, lines_of, recut, shear_pieces
from digitkit.reading.normalize import digit_image
from digitkit.reading import verifier
from digitkit.reading.paths import Candidate, aspect_z, best_paths, candidates, geometry, split_count
from digitkit.reading.results import DigitRead, Reading
from digitkit.reading.sequence import SequenceLine

MAX_DIGITS = 200
NO_DIGITS_HINT = "give a picture of a number, dark on light or light on dark"
# More separate pieces than this is noise or a page of text, not a number: refused at once.
MAX_PIECES = 4000
# A wide piece read whole with less than this probability is cut and read again.
SURE = 0.95
# ... or read surely but too wide for its class by this many deviations (two digits as one).
WIDE_Z = 2.0
# How much the verifier's log P(whole digit) counts beside the classifier's log-probability.
VERIFY_WEIGHT = 1.0
# ... in lines where the writing runs together, with their own verifier (verifier-joined.npz),
# which tells a digit cut from its neighbour less surely: weighted half (touching numbers
# 40.4 % -> 46.0 %, 2 x 1,000, seeds 0 and 1; weight 1.0: 44.7 % of 300, seed 7, 0.5: 45.7 %).
JOINED_VERIFY_WEIGHT = 0.5
# Under reader="auto", a line whose digits are all whole pieces of ink read at least this
# sure keeps the classic reading without asking the sequence model (ClassicChoice.clean).
CLEAN_SURE = 0.99
# Under reader="auto", where the two readers count differently, the classic reading stands
# if the sequence model finds its text within this many nats (a factor e) of its own: 6,000
# numbers of seeds 7 and 8 +0.17 points (0.5: +0.1, 2: +0.2, 3: +0.2; docs/read.md).
AS_LIKELY = 1.0
# A gap this wide (share of the digit height, about a digit's width) is a space.
SPACE = 0.9


@dataclass
class Plan:
    """A picture's candidate digits, before the model has seen them."""

    name: str
    size: tuple[int, int]
    lines: list[Line]
    candidates: list[list[Candidate]]
    images: np.ndarray  # (M, 28, 28): every line's candidates, then the whole picture's digit if any
    whole: bool  # the last image is the intake's digit of the whole picture (one piece of ink)
    grey: np.ndarray | None = None
    ink: np.ndarray | None = field(default=None, repr=False)  # kept until refined
    mask: np.ndarray | None = field(default=None, repr=False)
    known: np.ndarray | None = field(default=None, repr=False)  # rows already classified (NaN: not yet)


def plan(name: str, grey: np.ndarray, *, digits: int | None = None, keep_picture: bool = False) -> Plan:
    """Find the candidate digits of one grey picture (uint8, or float in [0, 1]).

    Raises:
        InputError: no digits found, or too many to be a number.
    """
    ink = inking.ink_of(grey)
    mask, _ = inking.remove_lines(inking.ink_mask(ink))
    found = pieces(mask)
    if len(found) > MAX_PIECES:
        raise InputError(f"{name}: {len(found)} separate marks: not a picture of a number",
                         hint=f"crop the picture to the number (at most {MAX_DIGITS} digits)")
    if not found:
        raise InputError(f"{name}: no digits found", hint=NO_DIGITS_HINT)
    ys = np.concatenate([p.ys for p in found])
    slant = deslant(ys, np.concatenate([p.xs for p in found]))
    shear_pieces(found, slant, float(ys.mean()))
    # A known count keeps cuts from multiplying digits: every piece that may hold two is cut.
    cut_width = REFINE_WIDTH if digits is not None else CUT_WIDTH
    lines = [line_of(group, cut_width) for group in lines_of(found)]
    lines = [line for line in lines if line.atoms]
    estimate = sum(max(1, round(sum(a.width for a in line.atoms) / (0.6 * line.height))) for line in lines)
    if estimate > MAX_DIGITS:
        raise InputError(f"{name}: about {estimate} digits: more than {MAX_DIGITS} are not read",
                         hint="crop the picture to the number")
    cands, images = _candidates(lines, ink, mask)
    whole = len(lines) == 1 and lines[0].components == 1 and not lines[0].marks
    if whole:
        from digitkit.intake import digit_from

        try:
            images.append(digit_from(name, grey))  # one piece of ink: exactly what `predict` sees
        except InputError:
            whole = False
    stack = np.stack(images).astype(np.float32) if images else np.zeros((0, 28, 28), np.float32)
    return Plan(name, (grey.shape[1], grey.shape[0]), lines, cands, stack, whole,
                grey if keep_picture else None, ink, mask)


def _candidates(lines: list[Line], ink: np.ndarray, mask: np.ndarray) -> tuple[list[list[Candidate]], list[np.ndarray]]:
    cands = [candidates(line) for line in lines]
    return cands, [digit_image(c.piece, ink, mask) for line_cands in cands for c in line_cands]


def refine(p: Plan, probabilities: np.ndarray) -> Plan | None:
    """A second plan where wide pieces the classifier is unsure of whole are cut (touching
    digits); ``None`` when there are none. Cutting only those keeps a wide "0" or "2" whole.
    Lines left as they were keep their images and probabilities (``Plan.known``)."""
    lines, cands, images, known = [], [], [], []
    changed, offset = False, 0
    for line, line_cands in zip(p.lines, p.candidates):
        rows = probabilities[offset:offset + len(line_cands)]
        which = set(line.cut)
        for c, row in zip(line_cands, rows):
            if c.stop - c.start != 1 or (float(row.max()) >= SURE and aspect_z(c.piece, int(row.argmax())) < WIDE_Z):
                continue
            for i, piece in enumerate(line.pieces):
                if piece is c.piece and i not in which and piece.width > REFINE_WIDTH * line.height:
                    which.add(i)
        if which != set(line.cut):
            line, changed = recut(line, which), True
            line_cands = candidates(line)
            images.extend(digit_image(c.piece, p.ink, p.mask) for c in line_cands)
            known.append(np.full((len(line_cands), 10), np.nan, np.float32))
        else:
            images.extend(p.images[offset:offset + len(line_cands)])
            known.append(rows)
        lines.append(line)
        cands.append(line_cands)
        offset += len(rows)
    if not changed:
        return None
    if p.whole:
        images.append(p.images[-1])
        known.append(probabilities[-1:])
    return replace(p, lines=lines, candidates=cands, images=np.stack(images).astype(np.float32),
                   known=np.concatenate(known))


def verdicts(plans: list[Plan]) -> list[np.ndarray]:
    """The verifier's log P(whole digit) for every candidate of each plan, in one matrix
    product for all of them (one per picture cost ~50x more on a busy machine, where
    each small product waits for the BLAS threads)."""
    images, shapes, sizes, joined = [], [], [], []
    for p in plans:
        count = sum(len(c) for c in p.candidates)
        sizes.append(count)
        images.append(p.images[:count])
        shapes.extend(geometry(line, cands) for line, cands in zip(p.lines, p.candidates))
        joined.extend(np.full(len(cands), line.joined) for line, cands in zip(p.lines, p.candidates))
    if not sum(sizes):
        return [np.zeros(n, np.float32) for n in sizes]
    images, shapes = np.concatenate(images), np.concatenate(shapes)
    # Lines where the writing runs together have their own verifier: each candidate is
    # scored by one of the two (two products at most).
    together = np.concatenate(joined)
    scores = np.zeros(len(images), np.float32)
    for which in (False, True):
        rows = together == which
        if rows.any():
            scores[rows] = verifier.log_whole(images[rows], shapes[rows], joined=which)
    return np.split(scores, np.cumsum(sizes)[:-1])


@dataclass
class ClassicChoice:
    """The classic reader's choice for a plan: each line's best paths by digit count, the
    counts chosen (empty when no split fits ``digits``) and where each line's candidates
    start in the probabilities."""

    per_line: list
    counts: list[int]
    offsets: list[int]

    def clean(self, p: Plan, probabilities: np.ndarray) -> list[bool]:
        """Per line: every digit chosen is one whole piece of ink (not cut, not joined from
        pieces) read at least :data:`CLEAN_SURE` sure, in a line whose writing does not run
        together (``Line.joined``: there a whole piece the classifier is sure of is often two
        digits). A line of such digits is read by the classic reader alone under ``auto``:
        the sequence reader would count them the same (docs/read.md), and a picture of them
        never loads it."""
        if not self.counts:
            return [False] * len(p.lines)
        out = []
        for n, (line, cands, paths) in enumerate(zip(p.lines, p.candidates, self.per_line)):
            chosen = paths[self.counts[n]][1]
            out.append(bool(chosen) and not line.joined and all(
                not cands[i].piece.cut_left and not cands[i].piece.cut_right and cands[i].piece.fragments == 1
                and probabilities[self.offsets[n] + i].max() >= CLEAN_SURE for i in chosen))
        return out

    def text(self, line: int, probabilities: np.ndarray) -> str:
        """The digits the classic reading chose for ``line``."""
        return "".join(str(int(probabilities[self.offsets[line] + i].argmax()))
                       for i in self.per_line[line][self.counts[line]][1])

    def score(self, line: int, probabilities: np.ndarray, text: str) -> float:
        """The classic path's score for ``line`` (log-probabilities, verifier, shape costs)
        with its digits read as ``text`` (as many digits as the path chose) instead of the
        classifier's first choices."""
        total, chosen = self.per_line[line][self.counts[line]]
        rows = probabilities[[self.offsets[line] + i for i in chosen]]
        labels = [int(c) for c in text]
        return float(total - np.log(np.maximum(rows.max(axis=1), 1e-12)).sum()
                     + np.log(np.maximum(rows[np.arange(len(labels)), labels], 1e-12)).sum())


def classic_choice(p: Plan, probabilities: np.ndarray, whole: np.ndarray | None = None,
                   digits: int | None = None) -> ClassicChoice:
    """The classic reader's best paths for a planned picture (see :func:`decide`)."""
    if whole is None:
        whole = verdicts([p])[0]
    logs = np.log(np.maximum(probabilities.max(axis=1), 1e-12)) if len(probabilities) else np.zeros(0)
    classes = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, int)
    per_line, offset, offsets = [], 0, []
    for line, cands in zip(p.lines, p.candidates):
        offsets.append(offset)
        limit = digits if digits is not None else len(line.atoms)
        weight = JOINED_VERIFY_WEIGHT if line.joined else VERIFY_WEIGHT
        scores = logs[offset:offset + len(cands)] + weight * whole[offset:offset + len(cands)]
        per_line.append(best_paths(line, cands, scores, classes[offset:offset + len(cands)],
                                   min(limit, len(line.atoms))))
        offset += len(cands)
    return ClassicChoice(per_line, split_count(per_line, digits), offsets)


def decide(p: Plan, probabilities: np.ndarray, *, top_k: int = 3, digits: int | None = None,
           keep_marks: bool = False, whole: np.ndarray | None = None,
           min_confidence: float | None = None, reader: str = "classic",
           sequence: list[SequenceLine | None] | None = None, choice: ClassicChoice | None = None) -> Reading:
    """Choose the digits of a planned picture with its candidates' probabilities.

    Args:
        whole: the verifier's scores of the candidates (:func:`verdicts`), when computed
            for many plans at once.
        min_confidence: under this calibrated confidence a digit is ``unsure``
            (default :data:`digitkit.inference.status.DEFAULT_MIN_CONFIDENCE`).
        reader: ``classic``, ``sequence`` or ``auto`` as resolved by
            :func:`digitkit.reading.sequence.resolve`; with ``sequence``: each line as the
            sequence model read it (:func:`digitkit.reading.sequence.read_lines`; ``None``
            for a line it was not asked to read).
        choice: :func:`classic_choice` of the same arguments, when already made.

    Raises:
        InputError: no digits found, or not ``digits`` of them.
    """
    choice = choice or classic_choice(p, probabilities, whole, digits)
    per_line, counts, offsets = choice.per_line, choice.counts, choice.offsets
    chosen_by = _readers(p, choice, probabilities, digits, reader, sequence)
    if digits is not None and not counts and chosen_by is None:
        most = sum(len(line.atoms) for line in p.lines)
        raise InputError(f"{p.name}: cannot read exactly {digits} digits (found ink for at most {most})"
                         if most < digits else f"{p.name}: cannot split the ink into exactly {digits} digits")
    chosen_by = chosen_by or ["classic"] * len(p.lines)
    read: list[DigitRead] = []
    full_rows: list[np.ndarray] = []  # each digit's calibrated probabilities, for its status
    texts, line_readers = [], []
    for number, (line, cands, paths, start) in enumerate(zip(p.lines, p.candidates, per_line, offsets)):
        line_digits = []
        if chosen_by[number] == "sequence":
            for found in sequence[number].digits:
                full_rows.append(found.probabilities)
                image = digit_image(found.piece, p.ink, p.mask)
                line_digits.append((found.piece, _digit(found.piece, found.probabilities, top_k, number, image)))
        else:
            count = counts[number]
            for index in paths[count][1]:
                row = probabilities[start + index]
                if p.whole and count == 1 and len(p.lines) == 1:
                    row = probabilities[-1]
                full_rows.append(row)
                line_digits.append((cands[index].piece, _digit(cands[index].piece, row, top_k, number,
                                                               p.images[start + index])))
        if line_digits:
            texts.append(_line_text(line, line_digits, keep_marks))
            read.extend(d for _, d in line_digits)
            line_readers.append(chosen_by[number])
    if not read:
        raise InputError(f"{p.name}: no digits found", hint=NO_DIGITS_HINT)
    from digitkit.inference.status import status_of

    for d, status in zip(read, status_of(np.stack(full_rows), np.stack([d.image for d in read]), min_confidence)):
        d.status = status
    confidence = math.prod(d.confidence for d in read)
    return Reading(p.name, "\n".join(texts), confidence, read, p.size, p.grey, line_readers)


def _readers(p: Plan, choice: ClassicChoice, probabilities: np.ndarray, digits: int | None, reader: str,
             sequence: list[SequenceLine | None] | None) -> list[str] | None:
    """Which reader answers each line (``None``: the classic reading cannot be had and the
    sequence reading does not stand in for it).

    ``sequence``: every line the sequence model could place. ``auto``, of those lines: the
    sequence reading where the line is dense (:func:`~digitkit.reading.layout.dense`) or its
    writing runs together (``Line.joined``: the classic scores are least sure there); where
    the two readers count a different number of digits, the sequence reading unless the
    sequence model finds the classic text about as likely as its own (:func:`_as_likely`);
    where they count the same but read differently, the reading the two models together find
    likelier (:func:`_likelier`). Lines the sequence model was not asked about keep the
    classic reading. With ``digits``, the sequence readings are used only if the number then
    has exactly that many digits; otherwise the classic reading alone.
    """
    counts = choice.counts
    if reader == "classic" or sequence is None:
        return ["classic"] * len(p.lines) if counts else None
    chosen = []
    for number, line in enumerate(p.lines):
        found = sequence[number]
        if found is None or found.digits is None:
            use = False
        elif reader == "sequence" or not counts or dense(line) or line.joined:
            use = True
        elif len(found.digits) != counts[number]:
            use = not _as_likely(found, choice.text(number, probabilities))
        else:
            use = _likelier(found, choice, number, probabilities)
        chosen.append("sequence" if use else "classic")
    if digits is not None:
        total = sum(len(sequence[i].digits) if by == "sequence" else (counts[i] if counts else -digits)
                    for i, by in enumerate(chosen))
        if total != digits:
            return ["classic"] * len(p.lines) if counts else None
    elif not counts:
        return None
    return chosen


def _as_likely(found: SequenceLine, classic: str) -> bool:
    """Whether the sequence model finds the classic text of a line (of another digit count)
    within :data:`AS_LIKELY` nats of its own reading: a doubled digit it may have run into one
    ("99354" for "993544"), where the classifier's count stands."""
    return found.log_likelihood(classic) >= found.log_likelihood(found.text) - AS_LIKELY


def _likelier(found: SequenceLine, choice: ClassicChoice, line: int, probabilities: np.ndarray) -> bool:
    """Whether the sequence reading of a line beats the classic one of as many digits: each
    text scored by both models, the sequence model's log-likelihood of the text (CTC, every
    alignment) plus the classic path's score with the text's digits on its cuts (a product of
    the two models' probabilities, weighed 1:1: weights of 0.7-1.5 for the classic score came
    within 0.1 points of each other on numbers of seeds 7 and 8, never the benchmark's;
    docs/read.md)."""
    classic, text = choice.text(line, probabilities), found.text
    if text == classic:
        return False

    def joint(candidate: str) -> float:
        return found.log_likelihood(candidate) + choice.score(line, probabilities, candidate)

    return joint(text) > joint(classic)


def _digit(piece: Piece, row: np.ndarray, top_k: int, line: int, image: np.ndarray) -> DigitRead:
    order = np.argsort(-row, kind="stable")[:top_k].tolist()
    ranked = [(int(d), float(row[d])) for d in order]
    return DigitRead(piece.box, ranked[0][0], ranked[0][1], ranked, line, image)


def _line_text(line: Line, found: list[tuple[Piece, DigitRead]], keep_marks: bool) -> str:
    """The digits of a line with spaces at wide gaps and, when kept, the marks between digits."""
    h = line.height
    items = [(piece.left, piece.right, str(d.digit)) for piece, d in found]
    if keep_marks and len(found) > 1:
        first, last = found[0][0].right, found[-1][0].left
        baseline = float(median(np.asarray([piece.bottom for piece, _ in found])))
        for mark in line.marks:
            symbol = _mark(mark, h, baseline)
            if symbol and first <= mark.centre <= last:
                items.append((mark.left, mark.right, symbol))
    items.sort(key=lambda item: (item[0] + item[1]) / 2)
    text, previous = "", None
    for left, right, symbol in items:
        if previous is not None and symbol.isdigit() and text[-1:].isdigit() and left - previous >= SPACE * h:
            text += " "
        text += symbol
        previous = right
    return text


def _mark(mark: Piece, h: float, baseline: float) -> str | None:
    """``-`` for a short bar at mid-height, ``,`` for a dot reaching below the digits,
    ``.`` for a dot on their baseline; ``None`` for anything else (a speck)."""
    if mark.width >= 1.5 * mark.height and mark.width >= 0.2 * h and mark.bottom < baseline - 0.2 * h:
        return "-"
    if mark.width > 0.4 * h or mark.height > 0.45 * h:
        return None
    if mark.bottom > baseline + 0.12 * h:
        return ","
    if mark.bottom >= baseline - 0.15 * h:
        return "."
    return None
