"""What preprocessing saw in a picture, as small panels for ``predict --show``.

A photo that reads wrong usually reads wrong for a reason a user can see: a shadow's edge
taken for ink, a table band, a digit too faint to find. :func:`explain` gives the picture
as found, in a few small grey panels (float32 in [0, 1], light = 1), for the terminal:

- **picture**: the picture, shrunk;
- **paper**: the paper's light as estimated (large photos only): a shadow or a gradient
  shows here, not in the ink;
- **ink**: what was dark enough to be ink (grey), what was kept as the digit (white), and
  the crop's frame;
- **crop**: the full-resolution crop around the digit, the paper's light divided out.

The 28x28 digit itself is drawn beside them by the caller.
"""

from __future__ import annotations

import numpy as np

from digitkit.intake import paper
from digitkit.intake.upscaled import may_be_upscaled, native_grid

# Panels are shrunk to at most this many pixels a side (one terminal column per pixel).
PANEL_SIDE = 40


def explain(grey: np.ndarray, side: int = PANEL_SIDE) -> list[tuple[str, np.ndarray]]:
    """(caption, panel) pairs for a grey picture, as :func:`preprocess_image` sees it.

    Args:
        grey: what :func:`~digitkit.intake.read_picture` gives (uint8, or float in [0, 1]).
        side: the largest panel side, in pixels.
    """
    from digitkit.intake.preprocess import _as_unit_grey

    raw = np.asarray(grey)
    full = raw if raw.ndim == 2 and raw.dtype == np.uint8 else _as_unit_grey(raw)
    photo = max(full.shape) > paper.PHOTO_SIDE and (not may_be_upscaled(full.shape) or native_grid(_unit(full)) is None)
    found = paper.locate(full) if photo else None
    if found is None:
        return [("picture", _fit(_unit(full), side))]
    k = found.block
    picture = paper.block_mean(full, k)
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
