"""Connected pieces of ink, as pixel lists with their boxes.

Labelling works on horizontal runs (the same run-based union-find as
:func:`digitkit.intake.morphology.large_components`, which keeps only a mask): a page has
thousands of pixels but a few hundred runs, and SciPy would cost half a second to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from digitkit.intake.morphology import runs, union_runs


@dataclass
class Piece:
    """Ink pixels that belong together (a component, or part of one after a cut).

    ``ys``/``xs`` are the pixels in the picture; ``sx`` their columns in the deslanted frame
    (where the digits stand upright), used to order, measure and cut.
    """

    ys: np.ndarray
    xs: np.ndarray
    sx: np.ndarray
    cut_left: bool = False  # made by cutting a larger piece on that side
    cut_right: bool = False
    origin: int = -1  # which uncut piece of its line it comes from
    ids: frozenset = frozenset()  # the connected components it holds ink of

    @property
    def fragments(self) -> int:
        """Connected components joined in it (a broken digit has several)."""
        return max(1, len(self.ids))

    @cached_property
    def box(self) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` in the picture, ends exclusive."""
        return int(self.xs.min()), int(self.ys.min()), int(self.xs.max()) + 1, int(self.ys.max()) + 1

    @cached_property
    def left(self) -> int:
        return int(self.sx.min())

    @cached_property
    def right(self) -> int:
        """Deslanted, exclusive."""
        return int(self.sx.max()) + 1

    @cached_property
    def top(self) -> int:
        return int(self.ys.min())

    @cached_property
    def bottom(self) -> int:
        return int(self.ys.max()) + 1

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def size(self) -> int:
        return int(self.ys.size)

    @cached_property
    def centre(self) -> float:
        return float(self.sx.mean())

    def reslant(self, sx: np.ndarray) -> None:
        """New deslanted columns (the cached measures that depend on them are dropped)."""
        self.sx = sx
        for name in ("left", "right", "centre"):
            self.__dict__.pop(name, None)

    def split(self, column: int) -> tuple["Piece", "Piece"]:
        """The pixels left of a deslanted column, and the others."""
        left = self.sx < column
        return (Piece(self.ys[left], self.xs[left], self.sx[left], self.cut_left, True, self.origin, self.ids),
                Piece(self.ys[~left], self.xs[~left], self.sx[~left], True, self.cut_right, self.origin, self.ids))


def join(parts: list[Piece]) -> Piece:
    if len(parts) == 1:
        return parts[0]
    return Piece(np.concatenate([p.ys for p in parts]), np.concatenate([p.xs for p in parts]),
                 np.concatenate([p.sx for p in parts]), parts[0].cut_left, parts[-1].cut_right, parts[0].origin,
                 frozenset().union(*(p.ids for p in parts)))


def pieces(mask: np.ndarray) -> list[Piece]:
    """The 8-connected components of ``mask``, largest first."""
    stride, begins, ends, row = runs(mask)
    if begins.size == 0:
        return []
    start = begins - row * stride - 1  # columns of the mask itself (the padding removed)
    stop = ends - row * stride - 1
    root = union_runs(row, start, stop)
    lengths = stop - start
    # Every pixel of every run, with its run's component: one repeat, then a sort by label.
    run_of_pixel = np.repeat(np.arange(begins.size), lengths)
    offsets = np.arange(run_of_pixel.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ys = row[run_of_pixel]
    xs = start[run_of_pixel] + offsets
    labels = root[run_of_pixel]
    order = np.argsort(labels, kind="stable")
    labels, ys, xs = labels[order], ys[order], xs[order]
    cuts = np.flatnonzero(np.diff(labels)) + 1
    found = [Piece(y, x, x, ids=frozenset([i])) for i, (y, x) in enumerate(zip(np.split(ys, cuts), np.split(xs, cuts)))]
    found.sort(key=lambda p: -p.size)
    return found

