"""Digits in the terminal: a character ramp, or Unicode half blocks with grey levels.

Half blocks draw two pixel rows per character (upper pixel as foreground colour of '▀',
lower as background), so a 28x28 digit takes 28 columns and 14 lines. Without colour
(``NO_COLOR``, not a terminal) the ramp is used, which needs no colour at all; half blocks
asked for explicitly without colour are drawn in two levels (ink or not) with '▀▄█'.
Both take one column per pixel and one line per two pixel rows. A digit wider than the
space it gets is shrunk, so narrow terminals still show whole digits.
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
MODES = ("ramp", "blocks")
INK_THRESHOLD = 0.5  # monochrome half blocks: a pixel is ink from half intensity up
_MONO_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def _as_unit(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3:
        image = image[..., 0]
    if image.ndim == 1:  # a flat vector from a dense model's input: assume square
        side = int(round(np.sqrt(image.size)))
        image = image.reshape(side, side)
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return np.clip(np.nan_to_num(image.astype(np.float32)), 0.0, 1.0)


def _shrink(unit: np.ndarray, columns: int) -> np.ndarray:
    """Resize a [0, 1] image to ``columns`` pixels wide, keeping its aspect ratio."""
    from PIL import Image

    height = max(1, round(unit.shape[0] * columns / unit.shape[1]))
    resized = Image.fromarray(unit, mode="F").resize((columns, height), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized), 0.0, 1.0)


def ramp_text(image: np.ndarray) -> Text:
    """Characters from no ink to full ink; each character covers one pixel column and two
    pixel rows (their mean), so the digit keeps its aspect ratio at the size of half blocks."""
    unit = _as_unit(image)
    if unit.shape[0] % 2:
        unit = np.vstack([unit, np.zeros((1, unit.shape[1]), np.float32)])
    pairs = (unit[0::2] + unit[1::2]) / 2.0
    index = np.minimum((pairs * len(RAMP)).astype(int), len(RAMP) - 1)
    lines = ["".join(RAMP[i] for i in row) for row in index]
    return Text("\n".join(lines), no_wrap=True, overflow="crop")


def _grey(value: float) -> str:
    level = int(round(value * 255))
    return f"rgb({level},{level},{level})"


def blocks_text(image: np.ndarray, *, colour: bool = True) -> Text:
    """Half blocks: one character per pixel column, two pixel rows per line.

    Args:
        image: 2-D digit, uint8 or float in [0, 1].
        colour: grey levels as colours; ``False`` draws ink/no ink with '▀▄█' and spaces.
    """
    unit = _as_unit(image)
    if unit.shape[0] % 2:
        unit = np.vstack([unit, np.zeros((1, unit.shape[1]), np.float32)])
    text = Text(no_wrap=True, overflow="crop")
    for top, bottom in zip(unit[0::2], unit[1::2]):
        if colour:
            for upper, lower in zip(top, bottom):
                text.append("▀", Style(color=_grey(upper), bgcolor=_grey(lower)))
        else:
            text.append("".join(_MONO_BLOCKS[(u >= INK_THRESHOLD, v >= INK_THRESHOLD)] for u, v in zip(top, bottom)))
        text.append("\n")
    text.rstrip()
    return text


def render_digit(image: np.ndarray, mode: Mode = "blocks", *, width: int | None = None, colour: bool = True) -> Text:
    """One digit as rich Text; ``mode`` picks the ramp or half blocks.

    Args:
        image: 2-D digit (or a square image flattened), uint8 or float in [0, 1].
        mode: ``"ramp"`` or ``"blocks"``.
        width: at most this many columns; the digit is shrunk to fit.
        colour: for blocks, whether grey levels may be drawn as colours.
    """
    unit = _as_unit(image)
    if width is not None and unit.shape[1] > width:
        unit = _shrink(unit, max(1, width))
    return blocks_text(unit, colour=colour) if mode == "blocks" else ramp_text(unit)


def digit_width(image_size: int, mode: Mode) -> int:
    """Columns a digit of ``image_size`` pixels takes, unshrunk (one per pixel in both modes)."""
    return image_size


def digit_grid(images: Sequence[np.ndarray], captions: Sequence[str], width: int, mode: Mode = "blocks",
               *, colour: bool = True) -> RenderableType:
    """Digits with captions, as many per row as fit in ``width`` columns.

    Captions are plain text (never parsed as markup). A digit wider than ``width`` is
    shrunk so that at least one fits per row.
    """
    if not len(images):
        return Text("")
    width = max(1, width)
    digit_cols = min(digit_width(_as_unit(images[0]).shape[1], mode), width)
    caption_cols = max(len(c) for c in captions) if captions else 0
    cell = min(max(digit_cols, caption_cols), width)
    per_row = max(1, (width + 1) // (cell + 1))
    rows = []
    for start in range(0, len(images), per_row):
        table = Table.grid(padding=(0, 1))
        chunk = range(start, min(start + per_row, len(images)))
        for _ in chunk:
            table.add_column(width=cell, no_wrap=True, overflow="crop")
        table.add_row(*[render_digit(images[i], mode, width=digit_cols, colour=colour) for i in chunk])
        table.add_row(*[Text(captions[i] if captions else "", overflow="ellipsis", no_wrap=True) for i in chunk])
        rows.append(table)
    return Group(*rows)


def has_colour(console) -> bool:
    """Whether ``console`` may draw colours (a terminal, and ``NO_COLOR`` not set)."""
    return console.color_system is not None and not console.no_color


def choose_mode(console) -> Mode:
    """Half blocks where the console has colour, the ramp otherwise (NO_COLOR, pipes)."""
    return "blocks" if has_colour(console) else "ramp"


def class_bars(counts: Sequence[int], width: int, labels: Sequence[str] | None = None) -> Table:
    """Per-class counts as a horizontal bar chart (label, bar, count, share) fitting ``width``."""
    labels = list(labels) if labels is not None else [str(i) for i in range(len(counts))]
    total = max(1, sum(counts))
    peak = max(1, max(counts, default=0))
    number_cols = max(len(f"{c:,}") for c in counts) if counts else 1
    bar_cols = max(1, width - max(len(x) for x in labels) - number_cols - 6 - 3)
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True, overflow="crop")
    table.add_column(justify="right", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for label, count in zip(labels, counts):
        cells = count / peak * bar_cols
        bar = "█" * int(cells) + (" ▏▎▍▌▋▊▉"[int((cells % 1) * 8)] if cells % 1 and int(cells) < bar_cols else "")
        table.add_row(Text(label), Text(bar.rstrip() or ("▏" if count else ""), style="cyan"),
                      Text(f"{count:,}"), Text(f"{count / total:.0%}", style="dim"))
    return table
