"""Where the digits may be: slant, lines, marks, and the pieces a number is cut into.

Classic recognition-based segmentation (Casey & Lecolinet, "A survey of methods and
strategies in character segmentation", 1996; the over-segment-then-choose scheme of
Fujisawa et al. for handwritten numerals): this module over-segments, proposing more
pieces ("atoms") than there are digits: every connected component, and the parts of wide
components cut at the valleys of their ink. :mod:`digitkit.reading.paths` then lets the
classifier choose which consecutive atoms make each digit.

Everything is measured against the line's digit height ``h``, so it works at any scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from digitkit.intake.strokes import median  # np.median imports numpy.ma (~10 ms of a cold read)
from digitkit.reading.components import Piece, join

# Slants tried (tan of the angle): writing leans up to ~20 degrees either way.
SLANTS = np.linspace(-0.36, 0.36, 13)
# A piece lower than STACK_HEIGHT * h lying over another for STACK_OVERLAP of its width is
# part of the same digit.
STACK_HEIGHT = 0.7
STACK_OVERLAP = 0.6
# Pieces this close (share of h) may be fragments of one stroke.
NEAR = 0.12
# Lines of writing are at least this far apart (share of the digit height).
LINE_GAP = 0.3
# A piece smaller than this share of h*h (and 3 px) is a speck: dropped.
SPECK_SHARE = 0.004
# A piece lower than this share of h, standing apart from the digits, is a mark (. , -).
MARK_HEIGHT = 0.45
# Pieces wider than this share of h hold several digits: they are always cut. Pieces wider
# than REFINE_WIDTH * h are cut when the classifier is unsure of them whole (see
# digitkit.reading.number.refine), or when the number of digits is given. Cutting every
# piece wider than 0.75 h made separated numbers worse (98.3 % -> 91.7 % on 60 numbers,
# seed 7): half a digit often reads as a confident digit.
CUT_WIDTH = 1.6
REFINE_WIDTH = 0.6
# Cuts keep at least this share of h on each side, and this much from each other.
CUT_MARGIN = 0.2
CUT_SPACING = 0.15
# Slopes (dx/dy) a cut line may take.
CUT_SLOPES = (-0.6, -0.3, 0.0, 0.3, 0.6)
# Where no valley is found over this share of h, cuts are added every CUT_STEP * h.
CUT_GAP = 0.55
CUT_STEP = 0.25
# An upright stroke (a "1", the stem of a 4, 7 or 9) is at least STROKE_HEIGHT * h tall and
# at most STROKE_WIDTH * h wide; cuts at its sides keep STROKE_MARGIN * h from the ends.
STROKE_HEIGHT = 0.8
STROKE_WIDTH = 0.3
STROKE_MARGIN = 0.08
# ... only in pieces wider than STROKE_PIECE of their height (or h): room for two digits.
STROKE_PIECE = 0.9
# ... and only in lines with a piece wider than STROKE_LINE * h (digits run together).
STROKE_LINE = 1.9
# ... or where the pieces stand closer than DENSE_GAP * h apart (median): digits touching.
DENSE_GAP = 0.05


@dataclass
class Line:
    """One line of writing: its digit height, atoms left to right, and marks."""

    height: float
    atoms: list[Piece]
    marks: list[Piece] = field(default_factory=list)
    components: int = 0  # pieces before cutting (for "one digit reads as predict")
    pieces: list[Piece] = field(default_factory=list)  # the atoms before any cut
    cut: frozenset = frozenset()  # which pieces were cut
    joined: bool = False  # the writing runs together (see recut)


def deslant(ys: np.ndarray, xs: np.ndarray) -> float:
    """The shear (tan of the slant) that makes the strokes most upright: the one whose column
    histogram is most peaked (largest sum of squares), as in classic slant correction."""
    if ys.size == 0:
        return 0.0
    centre = float(ys.mean())
    best, best_score = 0.0, -1.0
    for t in SLANTS:
        shifted = np.round(xs + t * (ys - centre)).astype(np.int64)
        counts = np.bincount(shifted - shifted.min())
        score = float(np.dot(counts, counts))
        if score > best_score * 1.0001 or (abs(score - best_score) <= best_score * 1e-4 and abs(t) < abs(best)):
            best, best_score = float(t), score
    return best


def shear_pieces(parts: list[Piece], t: float, centre: float) -> None:
    for p in parts:
        p.reslant(np.round(p.xs + t * (p.ys - centre)).astype(np.int64))


def lines_of(parts: list[Piece]) -> list[list[Piece]]:
    """Pieces grouped into lines of writing, top to bottom (bands of rows the large pieces span)."""
    if not parts:
        return []
    largest = max(p.size for p in parts)
    big = [p for p in parts if p.size >= 0.1 * largest]
    spans = sorted((p.top, p.bottom) for p in big)
    h = float(median(np.asarray([b - t for t, b in spans])))
    bands: list[list[int]] = []
    for top, bottom in spans:
        # Rows that overlap, or nearly meet (the halves of a digit broken across), are one
        # line; lines of writing are further apart than LINE_GAP * h.
        if bands and top < bands[-1][1] + LINE_GAP * h:
            bands[-1][1] = max(bands[-1][1], bottom)
        else:
            bands.append([top, bottom])
    grouped: list[list[Piece]] = [[] for _ in bands]
    for p in parts:
        overlaps = [min(p.bottom, b) - max(p.top, t) for t, b in bands]
        best = int(np.argmax(overlaps))
        if overlaps[best] <= 0:  # between lines: the nearest
            best = int(np.argmin([min(abs(p.top - b), abs(t - p.bottom)) for t, b in bands]))
        grouped[best].append(p)
    return [g for g in grouped if g]


def digit_height(parts: list[Piece]) -> float:
    """The line's digit height: for each large piece, the height of all the ink in its
    columns (so the fragments of a broken digit measure the whole digit), then the median."""
    largest = max(p.size for p in parts)
    heights = []
    for p in parts:
        if p.size < 0.15 * largest:
            continue
        above = [q for q in parts if q.left < p.right and p.left < q.right]
        heights.append(max(q.bottom for q in above) - min(q.top for q in above))
    return float(median(np.asarray(heights)))


def line_of(parts: list[Piece], cut_width: float = CUT_WIDTH) -> Line:
    """Specks dropped, marks set apart, pieces wider than ``cut_width * h`` cut: the atoms of one line."""
    h = digit_height(parts)
    parts = [p for p in parts if p.size >= max(3, SPECK_SHARE * h * h)]
    # Fragments first: the two halves of a broken "1" are each as short as a mark.
    parts = stack_fragments(parts, h)
    tall = [p for p in parts if p.height >= MARK_HEIGHT * h]
    whole, marks = list(tall), []
    for p in parts:
        if p.height >= MARK_HEIGHT * h:
            continue
        beside = any(p.left <= q.right and q.left <= p.right for q in tall)
        (marks if not beside and looks_like_mark(p, h) else whole).append(p)
    # A "dot" right against another short piece is a fragment too (a broken stroke's middle).
    for _ in range(2):
        near = [m for m in marks if any(_distance(m, q) <= NEAR * h for q in whole if q.height < MARK_HEIGHT * h)]
        whole += near
        marks = [m for m in marks if not any(m is n for n in near)]
    whole.sort(key=lambda p: p.centre)
    line = Line(h, [], marks, components=len(whole), pieces=whole)
    return recut(line, {i for i, p in enumerate(whole) if p.width > cut_width * h})


def stack_fragments(parts: list[Piece], h: float) -> list[Piece]:
    """Pieces joined when a short one stands over or under another (mostly within its
    columns): the halves of a broken stroke, a 5's flag, a 4 in two strokes. A tall piece
    (a "1" leaning over its neighbour) is never joined here; the path search may still."""
    parts = sorted(parts, key=lambda p: -p.size)
    merged: list[Piece] = []
    for p in parts:
        for i, q in enumerate(merged):
            overlap = min(p.right, q.right) - max(p.left, q.left)
            if p.height < STACK_HEIGHT * h and overlap >= STACK_OVERLAP * min(p.width, q.width):
                merged[i] = join([q, p])
                break
        else:
            merged.append(p)
    return merged


def _distance(a: Piece, b: Piece) -> float:
    dx = max(0, max(a.left, b.left) - min(a.right, b.right))
    dy = max(0, max(a.top, b.top) - min(a.bottom, b.bottom))
    return float(np.hypot(dx, dy))


def looks_like_mark(p: Piece, h: float) -> bool:
    """A dot or comma (small both ways) or a dash (a short flat bar); a short stroke that is
    neither is a fragment of a digit (a "1" broken in two)."""
    dot = p.width <= 0.35 * h and p.height <= 0.35 * h
    dash = p.width >= 1.5 * p.height and p.height <= 0.3 * h and p.width <= 0.9 * h
    return dot or dash


def recut(line: Line, which: set[int]) -> Line:
    """The line with its pieces ``which`` (indices into ``line.pieces``) cut, the others whole."""
    atoms = []
    # Digits that run together (a piece as wide as two, or pieces with no gaps between
    # them): a "1" may hide inside a neighbour there, so the sides of upright strokes are
    # cut too. Elsewhere those cuts split single wide digits ("2" read as "72").
    strokes = any(p.width > STROKE_LINE * line.height for p in line.pieces) or dense(line)
    for i, p in enumerate(line.pieces):
        p.origin = i
        atoms.extend(cut(p, line.height, strokes) if i in which else [p])
    atoms.sort(key=lambda p: p.centre)
    return Line(line.height, atoms, line.marks, line.components, line.pieces, frozenset(which), strokes)


def dense(line: Line) -> bool:
    """Whether the line's pieces stand closer than DENSE_GAP * h apart (median), as digits
    written touching do; digits written apart leave a gap."""
    pieces = sorted(line.pieces, key=lambda p: p.left)
    gaps = [b.left - a.right for a, b in zip(pieces, pieces[1:])]
    return bool(gaps) and float(median(np.asarray(gaps))) < DENSE_GAP * line.height


def cut_columns(piece: Piece, h: float, strokes: bool = True) -> tuple[list[int], set[int]]:
    """Deslanted columns where a wide piece may be cut: the valleys of its column ink counts,
    and evenly spaced columns where there are none (two digits overlapping have no valley);
    and which of them are the sides of an upright stroke (cut upright, see :func:`cut`)."""
    left, width = piece.left, piece.width
    counts = np.bincount(piece.sx - left, minlength=width).astype(np.float32)
    smooth = np.convolve(np.pad(counts, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    margin = max(2, int(round(CUT_MARGIN * h)))
    inner = np.arange(margin, width - margin + 1)
    if inner.size == 0:
        return [], set()
    valley = [int(c) for c in inner if c < width - 1 and smooth[c] <= smooth[c - 1] and smooth[c] <= smooth[c + 1]
              and smooth[c] < smooth.max()]
    chosen: list[int] = []
    spacing = max(2, CUT_SPACING * h)
    for c in sorted(valley, key=lambda c: smooth[c]):
        if all(abs(c - o) >= spacing for o in chosen):
            chosen.append(c)
    chosen.sort()
    step, gap = max(2, CUT_STEP * h), CUT_GAP * h
    edges = [0, *chosen, width]
    extra = []
    for a, b in zip(edges, edges[1:]):
        if b - a > gap:
            count = int((b - a) // step)
            extra.extend(int(round(a + (b - a) * k / (count + 1))) for k in range(1, count + 1))
    columns = set(chosen) | {c for c in extra if margin <= c <= width - margin}
    # Both sides of every upright stroke (a "1" drawn inside its neighbour's columns has no
    # valley of its own; the evenly spaced cuts miss it).
    edge_margin = max(2, int(round(STROKE_MARGIN * max(h, piece.height))))
    upright = set()
    for c in (stroke_edges(piece, h) if strokes and piece.width > STROKE_PIECE * max(h, piece.height) else []):
        if edge_margin <= c <= width - edge_margin and all(abs(c - o) >= 2 for o in columns):
            columns.add(c)
            upright.add(left + c)
    return [left + c for c in sorted(columns)], upright


def stroke_edges(piece: Piece, h: float) -> list[int]:
    """Columns (from the piece's left) just left and just right of each upright stroke:
    a narrow band of columns (at most :data:`STROKE_WIDTH` of h) whose longest vertical run
    of ink is at least :data:`STROKE_HEIGHT` of h."""
    h = max(h, piece.height)  # a large digit among small ones: its own strokes are long
    grid = np.zeros((piece.height, piece.width), bool)
    grid[piece.ys - piece.top, piece.sx - piece.left] = True
    # Longest vertical run per column: runs counted down the rows, the maximum kept.
    run = np.zeros(piece.width, np.int32)
    longest = np.zeros(piece.width, np.int32)
    for row in grid:
        run = np.where(row, run + 1, 0)
        np.maximum(longest, run, out=longest)
    tall = np.concatenate([[False], longest >= STROKE_HEIGHT * h, [False]])
    starts = np.flatnonzero(tall[1:] & ~tall[:-1])
    stops = np.flatnonzero(~tall[1:] & tall[:-1])
    edges = []
    for a, b in zip(starts.tolist(), stops.tolist()):
        if b - a <= STROKE_WIDTH * h:
            edges.extend([a, b])
    return edges


def cut(piece: Piece, h: float, strokes: bool = True) -> list[Piece]:
    """A wide piece cut at every candidate column (the path search may join them again).

    Each cut is a straight line through its column at the slope, of :data:`CUT_SLOPES`,
    that crosses the least ink (two digits overlapping are rarely parted by an upright
    line), except beside an upright stroke, cut upright (a slanted line there took half the
    neighbour with the "1"); a pixel's atom is the number of cut lines left of it.
    """
    columns, upright = cut_columns(piece, h, strokes)
    if not columns:
        return [piece]
    dy = piece.ys - (piece.top + piece.bottom - 1) / 2
    index = np.zeros(piece.size, np.int64)
    for column in columns:
        best, slope = None, 0.0
        for t in (0.0,) if column in upright else CUT_SLOPES:  # beside a stroke: upright
            crossed = int(np.count_nonzero(np.abs(piece.sx - t * dy - column) < 0.5))
            if best is None or (crossed, abs(t)) < best:
                best, slope = (crossed, abs(t)), t
        index += (piece.sx - slope * dy) >= column
    parts = []
    for k in range(len(columns) + 1):
        chosen = index == k
        if chosen.any():
            parts.append(Piece(piece.ys[chosen], piece.xs[chosen], piece.sx[chosen], piece.cut_left or k > 0,
                               piece.cut_right or k < len(columns), piece.origin, piece.ids))
    return parts
