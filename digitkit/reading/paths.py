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
import os
from dataclasses import dataclass

import numpy as np

from digitkit.reading.components import Piece, join
from digitkit.reading.layout import Line

MAX_ATOMS = 6
# A digit is at most this wide and at least this high (shares of the line's digit height).
MAX_WIDTH = 1.35
# Pieces further apart than this (share of h) are never one digit: the stroke of a "1"
# beside a "6" would otherwise make a plausible "4" together.
JOIN_GAP = float(os.environ.get("DK_JOIN_GAP", 0.12))
MIN_HEIGHT = float(os.environ.get('DK_MIN_HEIGHT', 0.5))
# Leaving an atom out of every digit (a speck touching nothing) costs like a digit read with
# this probability, scaled by how tall the atom is: a tall stroke is never dropped for free.
SKIP_PROBABILITY = 1e-3
# Every digit costs this much (nats): a piece of a broken digit read alone as a confident "1"
# must not beat the whole digit read a little less surely.
DIGIT_COST = float(os.environ.get("DK_DIGIT_COST", 0.0))
# Digits are rarely wider than WIDE * h: each h of width beyond costs WIDE_COST nats (two
# touching digits read as one plausible digit must lose to the two).
WIDE = float(os.environ.get("DK_WIDE", 0.9))
WIDE_COST = float(os.environ.get("DK_WIDE_COST", 8.0))
NARROW = float(os.environ.get("DK_NARROW", 0.45))
NARROW_COST = float(os.environ.get("DK_NARROW_COST", 4.0))
CUT_COST = float(os.environ.get("DK_CUT_COST", 1.0))
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
    found = []
    for start in range(len(atoms)):
        for stop in range(start + 1, min(len(atoms), start + MAX_ATOMS) + 1):
            group = atoms[start:stop]
            left = min(a.left for a in group)
            right = max(a.right for a in group)
            if stop > start + 1 and (right - left > MAX_WIDTH * h or
                                     atoms[stop - 1].left - max(a.right for a in group[:-1]) > JOIN_GAP * h):
                break
            top, bottom = min(a.top for a in group), max(a.bottom for a in group)
            if bottom - top < MIN_HEIGHT * h:
                continue
            found.append(Candidate(start, stop, join(group)))
    return found


def _skip_cost(atom: Piece, h: float) -> float:
    return math.log(SKIP_PROBABILITY) * min(1.0, atom.height / (MIN_HEIGHT * h)) * 2


def costs(line: Line, cands: list[Candidate], classes: np.ndarray) -> list[float]:
    """What each candidate's shape costs (nats), beside its log-probability: too wide (two
    digits read as one), too narrow for anything but a "1" (half a digit read as a digit),
    and each end made by cutting ink (a cut through a whole digit reads as two)."""
    h = line.height
    found = []
    for c, digit in zip(cands, classes.tolist()):
        ratio = c.piece.width / h
        cost = WIDE_COST * max(0.0, ratio - WIDE)
        if digit != 1:
            cost += NARROW_COST * max(0.0, NARROW - ratio) / NARROW
        cost += CUT_COST * (c.piece.cut_left + c.piece.cut_right) / 2
        found.append(cost)
    return found


def best_paths(line: Line, cands: list[Candidate], scores: np.ndarray, classes: np.ndarray, max_count: int) -> list[tuple[float, list[int]]]:
    """For each digit count k (0..max_count), the best path's score and its candidates (indices).

    ``scores[c]`` is candidate c's log-probability; ``(NEG, [])`` where no path has k digits.
    """
    n = len(line.atoms)
    ending: list[list[int]] = [[] for _ in range(n + 1)]
    for index, c in enumerate(cands):
        ending[c.stop].append(index)
    skips = [_skip_cost(a, line.height) for a in line.atoms]
    priors = costs(line, cands, classes)
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
                    gain = scores[index] - DIGIT_COST - priors[index]
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
