"""Digits in the terminal: a character ramp, or Unicode half blocks with grey levels.

Half blocks draw two pixel rows per character (upper pixel as foreground colour of '▀',
lower as background), so a 28x28 digit takes 28 columns and 14 lines. Without colour
(``NO_COLOR``, not a terminal) the ramp is used, which needs no colour at all.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

RAMP = " .:-=+*#%@"
Mode = Literal["ramp", "blocks"]


def _as_unit(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3:
        image = image[..., 0]
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return np.clip(np.nan_to_num(image.astype(np.float32)), 0.0, 1.0)


def ramp_text(image: np.ndarray) -> Text:
    """Two characters per pixel so the digit keeps its aspect ratio."""
    unit = _as_unit(image)
    index = np.minimum((unit * len(RAMP)).astype(int), len(RAMP) - 1)
    lines = ["".join(RAMP[i] * 2 for i in row) for row in index]
    return Text("\n".join(lines))


def _grey(value: float) -> str:
    level = int(round(value * 255))
    return f"rgb({level},{level},{level})"


def blocks_text(image: np.ndarray) -> Text:
    """Half blocks: one character per pixel column, two pixel rows per line."""
    unit = _as_unit(image)
    if unit.shape[0] % 2:
        unit = np.vstack([unit, np.zeros((1, unit.shape[1]), np.float32)])
    text = Text()
    for top, bottom in zip(unit[0::2], unit[1::2]):
        for upper, lower in zip(top, bottom):
            text.append("▀", Style(color=_grey(upper), bgcolor=_grey(lower)))
        text.append("\n")
    text.rstrip()
    return text


def render_digit(image: np.ndarray, mode: Mode = "blocks") -> Text:
    """One digit as rich Text; ``mode`` picks the ramp or half blocks."""
    return blocks_text(image) if mode == "blocks" else ramp_text(image)


def digit_width(image_size: int, mode: Mode) -> int:
    return image_size * (1 if mode == "blocks" else 2)


def digit_grid(images: Sequence[np.ndarray], captions: Sequence[str], width: int, mode: Mode = "blocks",
               ) -> RenderableType:
    """Digits with captions, as many per row as fit in ``width`` columns."""
    if not len(images):
        return Text("")
    cell = max(digit_width(_as_unit(images[0]).shape[1], mode), max(len(c) for c in captions))
    per_row = max(1, (width + 1) // (cell + 1))
    rows = []
    for start in range(0, len(images), per_row):
        table = Table.grid(padding=(0, 1))
        chunk = range(start, min(start + per_row, len(images)))
        for _ in chunk:
            table.add_column(width=cell, no_wrap=True)
        table.add_row(*[render_digit(images[i], mode) for i in chunk])
        table.add_row(*[Text(captions[i], overflow="ellipsis", no_wrap=True) for i in chunk])
        rows.append(table)
    return Group(*rows)


def choose_mode(console) -> Mode:
    """Half blocks where the console has colour, the ramp otherwise (NO_COLOR, pipes)."""
    return "blocks" if console.color_system is not None and not console.no_color else "ramp"
