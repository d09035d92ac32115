"""A picture of a number as a sequence model reads it: one line of ink, deslanted, 32 px high.

Experimental (not used by ``digitkit read``): the input of the CTC line reader of
:mod:`digitkit.zoo.sequence_reader` (scripts/train_sequence_reader.py). The same ink as the
classic reader sees: :func:`digitkit.reading.ink.ink_of`, its mask with printed lines
removed, specks dropped, the writing deslanted as :func:`digitkit.reading.layout.deslant`
finds it; then cropped to the ink, scaled to ``INK_HEIGHT`` px (aspect kept) inside a
``HEIGHT`` x ``WIDTH`` frame, left-aligned (a number wider than the frame is squeezed).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from digitkit.reading import ink as inking
from digitkit.reading.components import pieces
from digitkit.reading.layout import SPECK_SHARE, deslant, digit_height

HEIGHT = 32
WIDTH = 320
INK_HEIGHT = 28
MARGIN = 2  # left and top/bottom room in the frame
BLANK = 10  # CTC's blank class; classes 0-9 are the digits


def line_image(grey: np.ndarray) -> np.ndarray:
    """``(HEIGHT, WIDTH)`` float32 in [0, 1], bright ink on black, of a grey picture."""
    ink = inking.ink_of(grey)
    mask, _ = inking.remove_lines(inking.ink_mask(ink))
    found = pieces(mask)
    frame = np.zeros((HEIGHT, WIDTH), np.float32)
    if not found:
        return frame
    h = digit_height(found)
    found = [p for p in found if p.size >= max(3, SPECK_SHARE * h * h)] or found[:1]
    ys = np.concatenate([p.ys for p in found])
    xs = np.concatenate([p.xs for p in found])
    t = deslant(ys, xs)
    sx = np.round(xs + t * (ys - ys.mean())).astype(np.int64)
    y0, x0 = int(ys.min()), int(sx.min())
    crop = np.zeros((int(ys.max()) - y0 + 1, int(sx.max()) - x0 + 1), np.float32)
    crop[ys - y0, sx - x0] = ink[ys, xs]
    width = max(1, round(crop.shape[1] * INK_HEIGHT / crop.shape[0]))
    width = min(width, WIDTH - MARGIN)
    scaled = np.asarray(Image.fromarray(crop).resize((width, INK_HEIGHT), Image.Resampling.BILINEAR), np.float32)
    frame[MARGIN:MARGIN + INK_HEIGHT, MARGIN:MARGIN + width] = np.clip(scaled, 0, 1)
    return frame


def greedy(logits: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Best-path CTC decoding of ``(N, T, 11)`` scores: each row's text and its confidence
    (the product, over the frames, of the chosen class's probability)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=-1, keepdims=True)
    best = p.argmax(axis=-1)
    confidence = np.exp(np.log(p.max(axis=-1) + 1e-12).sum(axis=-1))
    texts = []
    for row in best:
        keep = np.ones(row.size, bool)
        keep[1:] = row[1:] != row[:-1]
        texts.append("".join(str(int(c)) for c in row[keep] if c != BLANK))
    return texts, confidence
