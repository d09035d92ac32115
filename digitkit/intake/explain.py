"""What preprocessing saw in a picture, as small panels for ``predict --show`` and the serve page.

A photo that reads wrong usually reads wrong for a reason a user can see: a shadow's edge
taken for ink, a table band, a digit too faint to find. :func:`explain` gives the picture
as found, in a few small grey panels (float32 in [0, 1], light = 1), for the terminal:

- **picture**: the picture, shrunk;
- **paper**: the paper's light as estimated (large photos only): a shadow or a gradient
  shows here, not in the ink;
- **ink**: what was dark enough to be ink (grey), what was kept as the digit (white), and
  the crop's frame;
- **crop**: the full-resolution crop around the digit, the paper's light divided out.

The 28x28 digit itself is drawn beside them by the caller. :func:`digit_and_panels` gives
the digit and its panels from one pass (the paper and the ink are found once), so a picture
read from standard input or uploaded is explained from the bytes already read.
"""

from __future__ import annotations

import numpy as np

from digitkit.intake import paper

# Panels are shrunk to at most this many pixels a side (one terminal column per pixel).
PANEL_SIDE = 40


def explain(grey: np.ndarray, side: int = PANEL_SIDE) -> list[tuple[str, np.ndarray]]:
    """(caption, panel) pairs for a picture, as :func:`preprocess_image` sees it (without
    making the digit; :func:`digit_and_panels` gives both from one pass).

    Args:
        grey: what :func:`~digitkit.intake.read_picture` gives (uint8 grey or RGB, or
            float in [0, 1]).
        side: the largest panel side, in pixels.
    """
    from digitkit.intake.preprocess import photo_input

    full = photo_input(grey)
    return panels(grey, paper.locate(full) if full is not None else None, side)


def digit_and_panels(grey: np.ndarray, side: int = PANEL_SIDE, *, preprocess: bool = True,
                     ) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """The digit (as :func:`~digitkit.intake.preprocess.preprocess_image`) and the panels that
    explain it (as :func:`explain`), from one pass: the paper and the ink are found once.

    Raises:
        InputError: no ink found (as :func:`preprocess_image`).
    """
    from digitkit.intake.preprocess import preprocess_found, resize_only

    if not preprocess:
        return resize_only(grey), panels(grey, None, side)
    digit, found = preprocess_found(grey)
    return digit, panels(grey, found, side)


def panels(grey: np.ndarray, found: paper.Found | None, side: int = PANEL_SIDE) -> list[tuple[str, np.ndarray]]:
    """The panels for a picture and what :func:`paper.locate` found in it (``None``: the
    picture alone)."""
    picture = _picture(np.asarray(grey))
    if found is None:
        return [("picture", _fit(_unit(picture), side))]
    k = found.block
    picture = paper.block_mean(picture, k)
    ink = np.where(found.kept, np.float32(1.0), np.where(found.ink, np.float32(0.45), np.float32(0.0)))
    top, bottom, left, right = (v // k for v in found.box)
    frame = np.zeros(ink.shape, bool)
    frame[top:bottom, left:right] = True
    inside = np.zeros(ink.shape, bool)
    inside[top + 1:bottom - 1, left + 1:right - 1] = True
    ink = np.where(frame & ~inside, np.float32(0.75), ink).astype(np.float32)
    light = found.paper if found.light_paper else 1.0 - found.paper
    return [("picture", _fit(picture, side)), ("paper", _fit(np.clip(light, 0, 1), side)),
            ("ink", _fit(ink, side, keep=True)), ("crop", _fit(found.crop, side))]


def _picture(raw: np.ndarray) -> np.ndarray:
    """The picture's grey levels as preprocessing reads them: uint8 (a colour photo's luma)
    or float32 in [0, 1]."""
    from digitkit.intake.preprocess import _as_unit_grey

    if raw.ndim == 3 and raw.dtype == np.uint8 and raw.shape[2] == 3:
        return paper.luma(raw)
    return raw if raw.ndim == 2 and raw.dtype == np.uint8 else _as_unit_grey(raw)


def _unit(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) / np.float32(255.0) if x.dtype == np.uint8 else x.astype(np.float32)


def _fit(x: np.ndarray, side: int, keep: bool = False) -> np.ndarray:
    """``x`` with its longer side at most ``side``; ``keep``: by maximum (thin lines stay)."""
    x = np.asarray(x, np.float32)
    factor = -(-max(x.shape) // side)
    if factor <= 1:
        return x
    if keep:
        from digitkit.intake.morphology import block_max

        padded = np.pad(x, ((0, -x.shape[0] % factor), (0, -x.shape[1] % factor)))
        return block_max(padded, factor)
    return paper.block_mean(np.pad(x, ((0, -x.shape[0] % factor), (0, -x.shape[1] % factor)), mode="edge"), factor)
