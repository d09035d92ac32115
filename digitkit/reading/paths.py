"""Choosing the digits: the best path through a line's atoms, scored by the classifier.

A digit is one to :data:`MAX_ATOMS` consecutive atoms (:mod:`digitkit.reading.layout`);
a reading of the line is a path from its first atom to its last. Each candidate digit is
classified once (all of a picture's candidates in one model call), and the path with the
largest sum of log-probabilities of its digits wins: dynamic programming over the atoms
(the Viterbi-style search of recognition-based segmentation). A count constraint
(``--digits N``) adds the number of digits to the state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from digitkit.reading.components import Piece, join
from digitkit.reading.layout import Line

MAX_ATOMS = 6
# A digit is at most this wide and at least this high (shares of the line's digit height).
MAX_WIDTH = 1.35
# Pieces further apart than this (share of h) are never one digit: the stroke of a "1"
# beside a "6" would otherwise make a plausible "4" together.
JOIN_GAP = 0.12
MIN_HEIGHT = 0.5
# A candidate lower than SHORT * h costs ASPECT_WEIGHT per tenth of h below it (a fragment).
# Leaving an atom out of every digit (a speck touching nothing) costs like a digit read with
# this probability, scaled by how tall the atom is: a tall stroke is never dropped for free.
SKIP_PROBABILITY = 1e-3
# Every digit costs this much (nats); negative favours more digits.
DIGIT_COST = 0.0
JOINED_BONUS = 1.0  # with the joined lines' own verifier (0.5 before it)
# Width over height of each digit's ink in MNIST (24,000 training digits): geometric mean
# and standard deviation of the log, per class. A "1" varies most (upright or written with
# a flag and a foot).
ASPECTS = {0: (0.915, 0.177), 1: (0.437, 0.431), 2: (0.943, 0.195), 3: (0.82, 0.199), 4: (0.819, 0.192),
           5: (0.943, 0.235), 6: (0.749, 0.209), 7: (0.8, 0.199), 8: (0.786, 0.207), 9: (0.708, 0.196)}
# Nats per deviation beyond ASPECT_FREE, on the narrow side and on the wide side (weighting
# the wide side 2-3x traded separated and slanted numbers for touching ones: no gain).
ASPECT_WEIGHT = 1.0
ASPECT_FREE = 1.5
WIDE_WEIGHT = 1.0
WIDE_FREE = 1.5
GAP_COST = 10.0  # per digit height of empty columns joined
SHORT = 0.7
CUT_COST = 0.5  # per candidate end made by cutting ink (half of it per end)
NEG = -1e18


@dataclass
class Candidate:
    """Atoms ``start:stop`` of a line, joined."""

    start: int
    stop: int
    piece: Piece


def candidates(line: Line) -> list[Candidate]:
    """Every run of consecutive atoms that could be one digit."""
    atoms, h = line.atoms, line.height
    parts = {}
    for a in atoms:
        parts[a.origin] = parts.get(a.origin, 0) + 1
    found = []
    for start in range(len(atoms)):
        for stop in range(start + 1, min(len(atoms), start + MAX_ATOMS) + 1):
            group = atoms[start:stop]
            left = min(a.left for a in group)
            right = max(a.right for a in group)
            # A whole piece is always a candidate, however wide (a wide "2" cut in three).
            entire = group[0].origin >= 0 and all(a.origin == group[0].origin for a in group) and \
                parts[group[0].origin] == len(group)
            if stop > start + 1 and not entire and (
                    right - left > MAX_WIDTH * h or
                    min(distance(atoms[stop - 1], a) for a in group[:-1]) > JOIN_GAP * h):
                if right - left > MAX_WIDTH * h and group[0].origin == atoms[stop - 1].origin:
                    continue  # the rest of this piece may still make it whole
                break
            top, bottom = min(a.top for a in group), max(a.bottom for a in group)
            if bottom - top < MIN_HEIGHT * h:
                continue
            found.append(Candidate(start, stop, join(group)))
    return found


def distance(a: Piece, b: Piece) -> float:
    """Between two pieces' (deslanted) boxes: 0 when they overlap; the fragments of a
    diagonal stroke are near in both directions, two digits side by side are not."""
    dx = max(0, max(a.left, b.left) - min(a.right, b.right))
    dy = max(0, max(a.top, b.top) - min(a.bottom, b.bottom))
    return math.hypot(dx, dy)


def _skip_cost(atom: Piece, h: float) -> float:
    return math.log(SKIP_PROBABILITY) * min(1.0, atom.height / (MIN_HEIGHT * h)) * 2


def aspect_z(piece: Piece, digit: int) -> float:
    """How many standard deviations (of the log) the piece's aspect is from its class's."""
    centre, spread = ASPECTS[digit]
    return (math.log(max(piece.width, 1) / max(piece.height, 1)) - math.log(centre)) / spread


def gaps(group: list[Piece]) -> int:
    """Empty columns between the atoms of a candidate (pieces of one digit rarely have any)."""
    covered = np.zeros(max(a.right for a in group) - min(a.left for a in group), bool)
    base = min(a.left for a in group)
    for a in group:
        covered[a.left - base:a.right - base] = True
    return int((~covered).sum())


def geometry(line: Line, cands: list[Candidate]) -> np.ndarray:
    """Shape features of each candidate for :mod:`digitkit.reading.verifier`."""
    h = line.height
    rows = [[c.piece.width / h, c.piece.height / h, float(c.piece.cut_left), float(c.piece.cut_right),
             gaps(line.atoms[c.start:c.stop]) / h, (c.stop - c.start) / MAX_ATOMS] for c in cands]
    return np.array(rows, np.float32).reshape(len(cands), 6)


def costs(line: Line, cands: list[Candidate], classes: np.ndarray) -> list[float]:
    """What each candidate's shape costs (nats), beside its log-probability.

    - Its aspect (width over height) against the aspects of its class in MNIST (log-normal,
      :data:`ASPECTS`): half a "0" read as a confident "1" is fine, half a "3" read as a "3"
      is not, nor two touching digits read as one wide "8".
    - Lower than :data:`SHORT` of the line's digit height: a fragment, not a digit.
    - Each end made by cutting ink (:data:`CUT_COST`).
    """
    h = line.height
    found = []
    for c, digit in zip(cands, classes.tolist()):
        piece = c.piece
        z = aspect_z(piece, digit)
        if digit == 1:
            z = max(z, 0.0)  # a "1" may be a bare stroke, as thin as the pen
        cost = ASPECT_WEIGHT * max(0.0, -z - ASPECT_FREE) + WIDE_WEIGHT * max(0.0, z - WIDE_FREE)
        cost += ASPECT_WEIGHT * max(0.0, SHORT - piece.height / h) / 0.1
        cost += CUT_COST * (piece.cut_left + piece.cut_right) / 2
        cost += GAP_COST * gaps(line.atoms[c.start:c.stop]) / h
        found.append(cost)
    return found


def best_paths(line: Line, cands: list[Candidate], scores: np.ndarray, classes: np.ndarray,
               max_count: int) -> list[tuple[float, list[int]]]:
    """For each digit count k (0..max_count), the best path's score and its candidates (indices).

    ``scores[c]`` is candidate c's log-probability; ``(NEG, [])`` where no path has k digits.
    """
    n = len(line.atoms)
    ending: list[list[int]] = [[] for _ in range(n + 1)]
    for index, c in enumerate(cands):
        ending[c.stop].append(index)
    skips = [_skip_cost(a, line.height) for a in line.atoms]
    priors = costs(line, cands, classes)
    # Where digits run together the classifier is often sure of two as one ("18" as "8"):
    # each digit found there earns JOINED_BONUS.
    bonus = JOINED_BONUS if line.joined else 0.0
    # table[j][k]: best score covering atoms[:j] with k digits; back[j][k]: how it got there.
    table = np.full((n + 1, max_count + 1), NEG)
    back: list[list[tuple[int, int] | None]] = [[None] * (max_count + 1) for _ in range(n + 1)]
    table[0, 0] = 0.0
    for j in range(1, n + 1):
        for k in range(max_count + 1):
            best, how = table[j - 1, k] + skips[j - 1], (-1, k)  # atom j-1 left out
            if k:
                for index in ending[j]:
                    previous = table[cands[index].start, k - 1]
                    gain = scores[index] - DIGIT_COST + bonus - priors[index]
                    if previous > NEG / 2 and previous + gain > best:
                        best, how = previous + gain, (index, k - 1)
            if best > NEG / 2:
                table[j, k], back[j][k] = best, how
    paths = []
    for k in range(max_count + 1):
        if table[n, k] <= NEG / 2:
            paths.append((NEG, []))
            continue
        chosen, j, count = [], n, k
        while j > 0:
            index, count = back[j][count]
            if index >= 0:
                chosen.append(index)
                j = cands[index].start
            else:
                j -= 1
        paths.append((float(table[n, k]), chosen[::-1]))
    return paths


def split_count(per_line: list[list[tuple[float, list[int]]]], total: int | None) -> list[int]:
    """How many digits each line gets: the best overall, or exactly ``total`` digits."""
    if total is None:
        return [int(np.argmax([s for s, _ in paths])) for paths in per_line]
    # A small knapsack over lines: best[k] = best score with k digits in the lines so far.
    best = {0: (0.0, [])}
    for paths in per_line:
        nxt: dict[int, tuple[float, list[int]]] = {}
        for k, (score, counts) in best.items():
            for extra, (line_score, _) in enumerate(paths):
                if line_score <= NEG / 2 or k + extra > total:
                    continue
                if k + extra not in nxt or score + line_score > nxt[k + extra][0]:
                    nxt[k + extra] = (score + line_score, counts + [extra])
        best = nxt
    if total not in best:
        return []
    return best[total][1]
