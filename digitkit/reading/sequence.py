"""The sequence reader: a CTC model that reads a whole line of ink, for digits that touch.

The classic reader (:mod:`digitkit.reading.paths`) cuts the ink and classifies each cut; where
digits touch or overlap no cut is clean and it reads about half of the numbers right. The
sequence reader (:mod:`digitkit.zoo.sequence_reader`, trained by
scripts/train_sequence_reader.py on numbers of MNIST *training* digits) reads a line's ink
whole: convnet columns, a bidirectional GRU, a class per 4-px frame (digits 0-9 and CTC's
blank), decoded by best path. It ships as ``sequence-reader.tflite`` beside this module and
runs in LiteRT (no TensorFlow), loaded only when a read needs it.

Its input is one line of the reader's own ink (:func:`line_input`: the line's pieces, already
deslanted by :func:`digitkit.reading.number.plan`), cropped, scaled to :data:`INK_HEIGHT` px
(aspect kept) in a :data:`HEIGHT` x :data:`WIDTH` frame, left-aligned (a line wider than the
frame is squeezed). Each digit it reads is given back as the ink of its columns
(:func:`decode_line`): boundaries half way between the frames where neighbouring digits peak,
mapped back through the scaling to the line's deslanted columns, so a digit has a box, a 28x28
image and a status like the classic reader's digits.

Which reader answers (``reader=``): ``classic``; ``sequence`` (every line); ``auto``, with the
classifier the combination was measured with (:data:`PAIRED`), per line: the sequence
reading where the line is dense (:func:`digitkit.reading.layout.dense`) or its writing runs
together, or where the two readers find a different number of digits (unless this model
finds the classic text about as likely as its own); where they find as many but read them
differently, the text the two models together find likelier (the sequence model's CTC
log-likelihood of the text, :meth:`SequenceLine.log_likelihood`, plus the classic path's
score of it). A line of whole, surely read digits (``ClassicChoice.clean``) is not read by
the sequence model at all (docs/read.md).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from digitkit.reading.components import Piece

HEIGHT = 32
WIDTH = 320
INK_HEIGHT = 28
MARGIN = 2  # left and top/bottom room in the frame
BLANK = 10  # CTC's blank class; classes 0-9 are the digits
FRAME_COLUMNS = 4  # frame pixels per output frame (the model pools columns by 4)
FRAMES = WIDTH // FRAME_COLUMNS
CHUNK = 32  # lines per model call
# LiteRT's default CPU delegate (XNNPACK) reads a chunk of lines ~4x faster than the built-in
# kernels, but preparing it costs ~30 ms once, more than the model's whole work on one line
# (a cold one-picture read: 40 ms with it, 17 ms without). The model starts on the built-in
# kernels and moves to XNNPACK when a process has asked for more than this many lines.
FAST_AFTER = 8

WEIGHTS = Path(__file__).with_name("sequence-reader.tflite")
# scripts/train_sequence_reader.py --export ... (its docstring): the file shipped, float32 weights.
SHA256 = "81ad788133cf304293da91718534411c3fff9e35521a7b26bf9bc7c34ccd4b01"
MAX_BYTES = 16 << 20

READERS = ("auto", "classic", "sequence")
# Classifiers the auto combination was measured with (benchmarks/read_accuracy.py); with any
# other model ``auto`` reads classic only: the user asked for their model.
PAIRED = frozenset({"cnn-best"})


@dataclass
class LineInput:
    """What the model reads of one line, and how its columns map back to the line's ink.

    ``ys``/``xs`` are the line's ink pixels in the picture, ``sx`` their deslanted columns,
    ``ids`` which connected component each belongs to; frame column ``c`` shows deslanted
    column ``x0 + (c - MARGIN) / scale``.
    """

    frame: np.ndarray  # (HEIGHT, WIDTH) float32 in [0, 1]
    ys: np.ndarray
    xs: np.ndarray
    sx: np.ndarray
    ids: np.ndarray
    x0: int
    scale: float


@dataclass
class SequenceDigit:
    """One digit the sequence model read: its ink and its 10 probabilities (at its peak frame)."""

    piece: Piece
    probabilities: np.ndarray


@dataclass
class SequenceLine:
    """One line as the sequence model read it: its digits (``None`` when it read none, or
    could not place them in the ink: :func:`decode_line`) and its frames' log-probabilities,
    which score any text for the line (:meth:`log_likelihood`)."""

    digits: list[SequenceDigit] | None
    log_probs: np.ndarray  # (FRAMES, 11)

    @property
    def text(self) -> str:
        return "".join(str(int(np.argmax(d.probabilities))) for d in self.digits or [])

    def log_likelihood(self, text: str) -> float:
        """log P(``text`` | the line) under the model: CTC's sum over every alignment."""
        return ctc_log_likelihood(self.log_probs, [int(c) for c in text])


def _frame(ys: np.ndarray, sx: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, int, float]:
    """The frame of ink at rows ``ys``, deslanted columns ``sx``; its first column and scale."""
    frame = np.zeros((HEIGHT, WIDTH), np.float32)
    y0, x0 = int(ys.min()), int(sx.min())
    crop = np.zeros((int(ys.max()) - y0 + 1, int(sx.max()) - x0 + 1), np.float32)
    crop[ys - y0, sx - x0] = values
    width = max(1, round(crop.shape[1] * INK_HEIGHT / crop.shape[0]))
    width = min(width, WIDTH - MARGIN)
    scaled = np.asarray(Image.fromarray(crop).resize((width, INK_HEIGHT), Image.Resampling.BILINEAR), np.float32)
    frame[MARGIN:MARGIN + INK_HEIGHT, MARGIN:MARGIN + width] = np.clip(scaled, 0, 1)
    return frame, x0, width / crop.shape[1]


def line_image(grey: np.ndarray) -> np.ndarray:
    """``(HEIGHT, WIDTH)`` float32 in [0, 1], bright ink on black: a whole grey picture as one
    line (how the training numbers, one line each, were drawn; :func:`line_input` reads)."""
    from digitkit.reading import ink as inking
    from digitkit.reading.components import pieces
    from digitkit.reading.layout import SPECK_SHARE, deslant, digit_height

    ink = inking.ink_of(grey)
    mask, _ = inking.remove_lines(inking.ink_mask(ink))
    found = pieces(mask)
    if not found:
        return np.zeros((HEIGHT, WIDTH), np.float32)
    h = digit_height(found)
    found = [p for p in found if p.size >= max(3, SPECK_SHARE * h * h)] or found[:1]
    ys = np.concatenate([p.ys for p in found])
    xs = np.concatenate([p.xs for p in found])
    t = deslant(ys, xs)
    sx = np.round(xs + t * (ys - ys.mean())).astype(np.int64)
    return _frame(ys, sx, ink[ys, xs])[0]


def line_input(line: Any, ink: np.ndarray) -> LineInput:
    """The model's input for one line of a plan (:class:`digitkit.reading.layout.Line`): the
    ink of its pieces (marks left out), in the deslanted columns the reader measures it in."""
    parts = line.pieces
    ys = np.concatenate([p.ys for p in parts])
    xs = np.concatenate([p.xs for p in parts])
    sx = np.concatenate([p.sx for p in parts]).astype(np.int64)
    ids = np.concatenate([np.full(p.size, min(p.ids) if p.ids else -1 - i, np.int64) for i, p in enumerate(parts)])
    frame, x0, scale = _frame(ys, sx, ink[ys, xs])
    return LineInput(frame, ys, xs, sx, ids, x0, scale)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def ctc_log_likelihood(log_probs: np.ndarray, labels: list[int]) -> float:
    """CTC's forward pass: log P(``labels`` | frames) for ``(T, 11)`` log-probabilities, summed
    over every alignment of the labels (blanks between them; a doubled digit needs a blank
    between its two frames). ``-inf`` when the frames are too few for the labels."""
    extended = np.full(2 * len(labels) + 1, BLANK)
    extended[1::2] = labels
    size = len(extended)
    # A label may follow the one two back (skipping a blank) unless it repeats it.
    skip = np.zeros(size, bool)
    skip[2:] = (extended[2:] != BLANK) & (extended[2:] != extended[:-2])
    alpha = np.full(size, -np.inf)
    alpha[0] = log_probs[0, BLANK]
    if size > 1:
        alpha[1] = log_probs[0, extended[1]]
    for t in range(1, len(log_probs)):
        step = alpha.copy()
        step[1:] = np.logaddexp(step[1:], alpha[:-1])
        step[2:] = np.where(skip[2:], np.logaddexp(step[2:], alpha[:-2]), step[2:])
        alpha = step + log_probs[t, extended]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if size > 1 else alpha[-1])


def greedy(logits: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Best-path CTC decoding of ``(N, T, 11)`` scores: each row's text and its confidence
    (the product, over the frames, of the chosen class's probability)."""
    p = softmax(logits)
    best = p.argmax(axis=-1)
    confidence = np.exp(np.log(p.max(axis=-1) + 1e-12).sum(axis=-1))
    texts = []
    for row in best:
        keep = np.ones(row.size, bool)
        keep[1:] = row[1:] != row[:-1]
        texts.append("".join(str(int(c)) for c in row[keep] if c != BLANK))
    return texts, confidence


def peaks(logits: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Best-path decoding of one line's ``(T, 11)`` scores: for each digit, the frame where it
    peaks (its most probable frame of its run) and the 10 digit probabilities there
    (the frame's distribution without the blank, renormalised)."""
    p = softmax(logits)
    best = p.argmax(axis=-1)
    found = []
    start = 0
    for t in range(1, len(best) + 1):
        if t < len(best) and best[t] == best[start]:
            continue
        c = int(best[start])
        if c != BLANK:
            peak = start + int(np.argmax(p[start:t, c]))
            digits = p[peak, :BLANK].astype(np.float64)
            found.append((peak, digits / max(float(digits.sum()), 1e-12)))
        start = t
    return found


def decode_line(logits: np.ndarray, source: LineInput) -> list[SequenceDigit] | None:
    """The digits read in one line, each with its share of the line's ink: the deslanted
    columns from half way to the previous digit's peak to half way to the next's. ``None``
    when it read no digit, or some digit would get no ink (peaks too close to be placed): the
    line is not read so."""
    found = peaks(logits)
    if not found:
        return None
    # Frame t covers frame columns [4t, 4t + 4): its centre, back in deslanted columns.
    centres = [source.x0 + (FRAME_COLUMNS * t + FRAME_COLUMNS / 2 - MARGIN) / source.scale for t, _ in found]
    bounds = [-np.inf] + [(a + b) / 2 for a, b in zip(centres, centres[1:])] + [np.inf]
    digits = []
    for i, (_, probabilities) in enumerate(found):
        inside = (source.sx >= bounds[i]) & (source.sx < bounds[i + 1])
        if not inside.any():
            return None
        # Sets, not np.unique / np.intersect1d: those import numpy.ma (~10 ms of a cold read).
        ids = frozenset(source.ids[inside].tolist())
        piece = Piece(source.ys[inside], source.xs[inside], source.sx[inside], ids=ids)
        piece.cut_left = i > 0 and not ids.isdisjoint(source.ids[source.sx < bounds[i]].tolist())
        piece.cut_right = i < len(found) - 1 and not ids.isdisjoint(source.ids[source.sx >= bounds[i + 1]].tolist())
        digits.append(SequenceDigit(piece, probabilities.astype(np.float32)))
    return digits


class SequenceModel:
    """The shipped ``sequence-reader.tflite`` in a LiteRT interpreter: ``(N, 32, 320)`` -> ``(N, 80, 11)``.

    Checked before native code parses it (size, LiteRT identifier, SHA-256: a damaged or
    swapped file is refused in one line, saying to reinstall) and after (one float input of a
    line's shape, one output of 80 frames x 11 classes).

    Raises:
        UnavailableError: the LiteRT runtime is not installed.
        ModelRefusedError: the file is missing, damaged or not the sequence reader.
    """

    def __init__(self, path: Path = WEIGHTS, threads: int | None = None, digest: str | None = SHA256) -> None:
        from digitkit.errors import ModelRefusedError, UnavailableError
        from digitkit.inference.litert_backend import INSTALL_HINT, available
        from digitkit.pretrained import REINSTALL_HINT

        self.path = Path(path)
        self._refused = None
        self._threads = threads or 1
        if not available():
            raise UnavailableError("the LiteRT runtime is not installed (the sequence reader needs it)",
                                   hint=INSTALL_HINT)

        def refused(why: str) -> ModelRefusedError:
            return ModelRefusedError(f"digitkit's sequence reader ({self.path.name}) {why}", hint=REINSTALL_HINT)

        self._refused = refused

        try:
            size = self.path.stat().st_size
            if not self.path.is_file() or not 0 < size <= MAX_BYTES:
                raise refused(f"is missing, empty or too large ({size:,} bytes)")
            data = self.path.read_bytes()
        except OSError as exc:
            raise refused(f"cannot be read: {exc.strerror or exc}") from None
        if digest is not None:
            import hashlib

            if hashlib.sha256(data).hexdigest() != digest:
                raise refused("is damaged: its SHA-256 is not the one shipped")
        if data[4:8] != b"TFL3":
            raise refused("is not a LiteRT model")
        self._data, self._lines, self._fast = data, 0, False
        self._interpreter = self._load(fast=False)
        self._lock = threading.Lock()  # an interpreter runs one batch at a time (serve's threads)

    def _load(self, fast: bool):
        """An interpreter of the checked file, with XNNPACK (``fast``) or the built-in kernels."""
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        from digitkit.inference.litert_backend import _quiet_native_stderr

        kind = OpResolverType.AUTO if fast else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        try:
            with _quiet_native_stderr():
                interpreter = Interpreter(model_content=self._data, num_threads=self._threads,
                                          experimental_op_resolver_type=kind)
            inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
            if len(inputs) != 1 or len(outputs) != 1:
                raise ValueError(f"{len(inputs)} inputs and {len(outputs)} outputs")
            self._input, self._output = inputs[0], outputs[0]
            shape_in = tuple(int(d) for d in self._input["shape"][1:])
            shape_out = tuple(int(d) for d in self._output["shape"][1:])
            if shape_in != (HEIGHT, WIDTH, 1) or shape_out != (FRAMES, BLANK + 1) or \
                    np.dtype(self._input["dtype"]) != np.float32 or np.dtype(self._output["dtype"]) != np.float32:
                raise ValueError(f"it maps {shape_in} to {shape_out}")
        except (RuntimeError, ValueError, IndexError, KeyError, TypeError) as exc:
            raise self._invalid(exc) from None
        # Tensors are allocated at the first call, for its batch (the SHA-256 has already
        # vouched for the graph).
        self._batch: int | None = None
        return interpreter

    def _invalid(self, exc: BaseException):
        from digitkit.errors import printable

        return self._refused(f"is not a valid sequence reader: {printable(str(exc))[:120]}")

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            from digitkit.inference.litert_backend import _quiet_native_stderr

            self._interpreter.resize_tensor_input(self._input["index"], [batch, HEIGHT, WIDTH, 1])
            with _quiet_native_stderr():
                self._interpreter.allocate_tensors()
            self._batch = batch

    def logits(self, frames: np.ndarray) -> np.ndarray:
        """``(N, FRAMES, 11)`` scores of ``(N, HEIGHT, WIDTH)`` line frames, :data:`CHUNK` per call."""
        x = np.ascontiguousarray(frames, np.float32).reshape(len(frames), HEIGHT, WIDTH, 1)
        out = []
        with self._lock:
            self._lines += len(x)
            if self._lines > FAST_AFTER and not self._fast:
                self._interpreter, self._fast = self._load(fast=True), True
            for start in range(0, len(x), CHUNK):
                part = x[start:start + CHUNK]
                try:
                    self._resize(len(part))
                    self._interpreter.set_tensor(self._input["index"], part)
                    self._interpreter.invoke()
                    out.append(np.array(self._interpreter.get_tensor(self._output["index"])))
                except (RuntimeError, ValueError, IndexError) as exc:  # the runtime's errors for a broken graph
                    raise self._invalid(exc) from None
        return np.concatenate(out) if out else np.zeros((0, FRAMES, BLANK + 1), np.float32)


@functools.lru_cache(maxsize=2)
def model(threads: int | None = None) -> SequenceModel:
    """The shipped sequence reader, loaded once per process (and thread count)."""
    return SequenceModel(WEIGHTS, threads)


def resolve(reader: str, model_name: str | None) -> str:
    """Which reader a read uses: ``auto`` is ``classic`` unless the classifier is one the
    combination was measured with (:data:`PAIRED`) and the LiteRT runtime is installed.

    Raises:
        UsageError: ``reader`` is not one of :data:`READERS`.
    """
    from digitkit.errors import UsageError

    if reader not in READERS:
        raise UsageError(f"expected reader in {', '.join(READERS)}. Received: reader={reader!r}")
    if reader == "auto":
        from digitkit.inference.litert_backend import available

        return "auto" if model_name in PAIRED and available() else "classic"
    return reader


def read_lines(lines: list[Any], inks: list[np.ndarray], threads: int | None = None) -> list[SequenceLine]:
    """Each line as the sequence model reads it (all lines in one call per :data:`CHUNK`)."""
    if not lines:
        return []
    sources = [line_input(line, ink) for line, ink in zip(lines, inks)]
    scores = model(threads).logits(np.stack([s.frame for s in sources]))
    return [SequenceLine(decode_line(row, source), log_softmax(row.astype(np.float64)))
            for row, source in zip(scores, sources)]
