"""A read number in the terminal: the picture in half blocks with each digit's box, and the
readings under their boxes."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text

MAX_ROWS = 32  # picture pixel rows shown (16 lines): a tall page is shrunk to this
BOX_COLOUR = (255, 200, 0)


def _fit(picture: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """The picture as ink (bright on black) in [0, 1], shrunk to ``width`` columns and at
    most :data:`MAX_ROWS` rows; the scale applied."""
    from PIL import Image

    from digitkit.reading.ink import ink_of

    ink = ink_of(picture)
    h, w = ink.shape
    scale = min(width / w, MAX_ROWS / h, 1.0 if max(h, w) <= width else 10.0)
    size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
    small = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize(size, Image.Resampling.BOX), np.float32)
    return np.clip(small, 0.0, 1.0), scale


def picture_text(picture: np.ndarray, boxes: list[tuple[int, int, int, int]], width: int, *,
                 colour: bool = True) -> tuple[Text, float]:
    """Half blocks of the picture with the boxes outlined (in colour only); the scale used."""
    if boxes:  # show the part of the picture that holds the digits, with a small margin
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        pad = max(2, (y1 - y0) // 8)
        x0, y0 = max(0, x0 - pad), max(0, y0 - pad)
        picture = picture[y0:y1 + pad, x0:x1 + pad]
        boxes = [(a - x0, b - y0, c - x0, d - y0) for a, b, c, d in boxes]
    small, scale = _fit(picture, width)
    rgb = np.repeat((small * 255).astype(np.uint8)[..., None], 3, axis=2)
    if colour:
        h, w = small.shape
        for x0, y0, x1, y1 in boxes:
            a, b = min(w - 1, int(x0 * scale)), min(w - 1, max(int(x0 * scale), int(np.ceil(x1 * scale)) - 1))
            c, d = min(h - 1, int(y0 * scale)), min(h - 1, max(int(y0 * scale), int(np.ceil(y1 * scale)) - 1))
            rgb[c, a:b + 1] = rgb[d, a:b + 1] = BOX_COLOUR
            rgb[c:d + 1, a] = rgb[c:d + 1, b] = BOX_COLOUR
    if rgb.shape[0] % 2:
        rgb = np.concatenate([rgb, np.zeros((1, *rgb.shape[1:]), np.uint8)])
    text = Text(no_wrap=True, overflow="crop")
    for top, bottom in zip(rgb[0::2], rgb[1::2]):
        if colour:
            for upper, lower in zip(top.tolist(), bottom.tolist()):
                text.append("▀", Style(color=f"rgb({upper[0]},{upper[1]},{upper[2]})",
                                       bgcolor=f"rgb({lower[0]},{lower[1]},{lower[2]})"))
        else:
            text.append("".join(" ▀▄█"[(u[0] >= 128) + 2 * (v[0] >= 128)] for u, v in zip(top, bottom)))
        text.append("\n")
    text.rstrip()
    return text, scale


def labels_line(digits: list[Any], scale: float, width: int, left: int = 0) -> Text:
    """Each digit's reading under the centre of its box (the first line's digits); ``left``
    is where the picture shown starts."""
    cells = [" "] * width
    for d in digits:
        if d.line:
            continue
        column = min(width - 1, max(0, int(((d.box[0] + d.box[2]) / 2 - left) * scale)))
        while column < width - 1 and cells[column] != " ":
            column += 1
        cells[column] = str(d.digit)
    return Text("".join(cells).rstrip(), style="bold")


def reading_view(reading: Any, width: int, *, colour: bool = True) -> RenderableType:
    """The number, its picture with boxes, the readings under them, and each digit's confidence."""
    from digitkit.errors import printable

    head = Text(printable(reading.text).replace("\\n", " / "), style="bold green", overflow="fold")
    head.append(f"  ({reading.confidence * 100:.1f}% sure)  ", style="dim")
    status = getattr(reading, "status", "ok")
    if status != "ok":
        head.append(f"{status}  ", style="yellow")
    head.append(printable(reading.input))
    parts: list[RenderableType] = [head]
    if reading.picture is not None:
        boxes = [d.box for d in reading.digits]
        picture, scale = picture_text(reading.picture, boxes, width, colour=colour)
        parts.append(picture)
        if len({d.line for d in reading.digits}) == 1:
            left = max(0, min(b[0] for b in boxes) - max(2, (max(b[3] for b in boxes) - min(b[1] for b in boxes)) // 8))
            parts.append(labels_line(reading.digits, scale, width, left))
    lines, current = [], ""
    for d in reading.digits:  # folded by item, never inside one
        others = " ".join(f"{digit}:{p * 100:.0f}%" for digit, p in d.top_k[1:] if p >= 0.005)
        item = f"{d.digit} {d.confidence * 100:.1f}%" + (f" ({others})" if others else "")
        if getattr(d, "status", "ok") != "ok":  # a person should look: said beside the digit
            item += f" {d.status}"
        if current and len(current) + 2 + len(item) > width:
            lines.append(current)
            current = ""
        current += ("  " if current else "") + item
    lines.append(current)
    parts.append(Text("\n".join(lines), style="dim", no_wrap=True, overflow="crop"))
    return Group(*parts)
