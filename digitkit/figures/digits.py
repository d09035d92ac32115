"""A grid of digits with their captions, drawn with Pillow in milliseconds.

For TensorBoard's image tab at the end of every fit: the report's
:func:`~digitkit.figures.plots.misclassified_gallery` (probability bars, matplotlib) costs
seconds, which every fit would pay; this picture costs a few milliseconds.
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np

from digitkit.figures.theme import PREDICTED_COLOUR, TRUE_COLOUR

SCALE = 3
CAPTION = 18


def mistakes_grid(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, indices: Sequence[int],
                  columns: int = 6) -> bytes:
    """Each digit (dark ink on white, 3x) above "true as predicted confidence" (true in blue,
    predicted in vermillion); PNG bytes."""
    from PIL import Image, ImageDraw, ImageFont

    side = images.shape[1] * SCALE
    cell_w, cell_h = max(side, 92) + 8, side + CAPTION + 8
    rows = max(1, -(-len(indices) // columns))
    canvas = Image.new("RGB", (cell_w * min(columns, max(len(indices), 1)), cell_h * rows), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=13)
    for n, index in enumerate(indices):
        row, col = divmod(n, columns)
        x0, y0 = col * cell_w + 4, row * cell_h + 4
        digit = Image.fromarray(255 - np.asarray(images[index], dtype=np.uint8)).resize((side, side), Image.NEAREST)
        canvas.paste(digit, (x0 + (cell_w - 8 - side) // 2, y0))
        true, predicted = int(labels[index]), int(np.argmax(probabilities[index]))
        x, y = x0, y0 + side + 2
        for text, colour in ((str(true), TRUE_COLOUR), (" as ", "#333333"), (str(predicted), PREDICTED_COLOUR),
                             (f" {probabilities[index, predicted]:.0%}", "#333333")):
            draw.text((x, y), text, fill=colour, font=font)
            x += font.getlength(text)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()
