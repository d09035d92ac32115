"""``digitkit label``'s reviewer in the terminal: one picture at a time, keys in, 80x24.

The screen is redrawn whole after every key (about 20 lines; a few milliseconds with rich).
Keys are read raw (``termios`` cbreak mode, one byte at a time) so a digit acts without
Enter; the terminal's settings are restored however the session ends. Ctrl-C quits like
``q``: every decision is already on disk.
"""

from __future__ import annotations

import os
import select
import time
from typing import Any, Callable

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from digitkit.errors import printable
from digitkit.render.digits import choose_mode, render_digit

DIGIT_KEYS = {str(d).encode(): d for d in range(10)}
ENTER = {b"\r", b"\n"}
BACK = {b"\x7f", b"\x08"}
QUIT = {b"q", b"Q", b"\x03", b"\x04"}  # q, Ctrl-C, Ctrl-D
SKIP = {b"s", b"S"}
PICTURE_COLUMNS = 28


def screen(review: Any, console: Console, message: str = "") -> Group:
    """The whole screen for the review's current picture."""
    progress = review.progress()
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append("digitkit label", style="bold")
    head.append(f"  {progress['labelled']} labelled · {progress['skipped']} skipped · "
                f"{progress['left']} left" + (" · scoring…" if progress["scoring"] else ""))
    counts = Text("  ".join(f"{d}:{n}" for d, n in enumerate(progress["counts"])), no_wrap=True,
                  overflow="ellipsis", style="dim")
    picture = review.current
    if picture is None:
        body: Any = Text("reading and scoring pictures…" if progress["scoring"] else "all pictures decided")
    else:
        body = Table.grid(padding=(0, 3))
        body.add_column(width=PICTURE_COLUMNS, no_wrap=True)
        body.add_column(no_wrap=True, overflow="ellipsis", max_width=max(10, console.width - 32))
        body.add_row(render_digit(picture.image, choose_mode(console), width=PICTURE_COLUMNS)
                     if picture.image is not None else Text("(no preview)"), _facts(picture))
    keys = Text(no_wrap=True, overflow="ellipsis", style="dim")
    keys.append("0-9 label · Enter accept · Backspace back · s skip · q quit")
    return Group(head, counts, Text(""), body, Text(""), keys, Text(message, no_wrap=True, overflow="ellipsis"))


def _facts(picture: Any) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(printable(picture.name)[-44:] + "\n\n")
    text.append("answer  ", style="dim")
    text.append(f"{picture.best}", style="bold")
    text.append(f"   {picture.confidence:.1%}\n")
    text.append("top 3   ", style="dim")
    text.append("   ".join(f"{d} {p:.0%}" for d, p in picture.top_k[:3]) + "\n")
    status = picture.extra.get("status")
    if isinstance(status, str):
        text.append("status  ", style="dim")
        text.append(printable(status) + "\n")
    text.append("\nEnter: it is ", style="dim")
    text.append(f"{picture.best}", style="bold")
    return text


class RawKeys:
    """Keys from a terminal file descriptor, one press at a time (cbreak mode while open)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._saved: Any = None

    def __enter__(self) -> "RawKeys":
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc: Any) -> None:
        import termios

        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def read(self) -> bytes:
        """One key; an escape sequence (arrow keys...) comes back whole, to be ignored."""
        key = os.read(self.fd, 1)
        if key == b"\x1b":
            while select.select([self.fd], [], [], 0.02)[0]:
                key += os.read(self.fd, 8)
        return key


def run(review: Any, console: Console, read_key: Callable[[], bytes]) -> None:
    """Show pictures and act on keys until ``q`` or no picture is left."""

    def draw(message: str = "") -> None:
        console.clear()
        console.print(screen(review, console, message), highlight=False)

    draw()
    review.advance()
    draw()
    while review.current is not None:
        try:
            key = read_key()
        except KeyboardInterrupt:
            key = b"q"
        pressed = time.perf_counter()
        if not key or key in QUIT:
            break
        if key in DIGIT_KEYS:
            review.label(DIGIT_KEYS[key])
        elif key in ENTER:
            review.accept()
        elif key in BACK:
            review.back()
        elif key in SKIP:
            review.skip()
        else:
            draw("keys: 0-9, Enter, Backspace, s, q")
            continue
        draw()
        review.tally.key_ms.append((time.perf_counter() - pressed) * 1000)
        review.persist()
