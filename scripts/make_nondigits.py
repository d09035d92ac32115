"""Make pictures that are not one digit, drawn as people send pictures, for the "not a digit" checks.

    python scripts/make_nondigits.py OUT_DIR [--count 40] [--seed 0] [--data DIR]
                                     [--kinds photo,canvas,binary16,binary32,upscale8]

Each content below is drawn ``--count`` times white-on-black on a 28x28 MNIST-style grid
(the ink in a 20x20 box), then rendered as each real-world kind with the very functions of
``scripts/make_realworld_digits.py`` (phone photo, transparent canvas, box-stretched binary
scans, 8x8 upscales), so a detector cannot tell non-digits from digits by how they were
photographed:

- ``letter``: a letter in one of several fonts (DejaVu Sans, Serif, Mono; bold, oblique),
  leaving out those that are written like a digit (O o D Q I l i j J S s Z z B b g q G T t y);
- ``symbol``: + = % # @ & ? ! * < > ~ ^ $ and a few maths signs, in the same fonts;
- ``stroke-letter``: a letter drawn as hand-like strokes (jittered polylines, pen width varies);
- ``scribble``: a random scrawl of curves;
- ``shape``: a filled or outlined square, triangle, star, cross or heart;
- ``noise``: scattered specks (blank pictures are refused by the intake before any model runs);
- ``piece``: a cropped piece (a third to a half) of a real digit, scaled up;
- ``pair``: two real digits side by side (``digitkit read`` reads those).

The real digits come from the end of the test split (``--data`` IDX folder, else the bundled
sample), away from the first ones ``make_realworld_digits.py`` uses. ``labels.csv`` lists
``file,content,kind``. The same seed gives the same files.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_realworld_digits import KINDS, _render, load_source  # noqa: E402

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
         "DejaVuSansMono.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansCondensed-Bold.ttf")
DIGIT_LIKE = set("OoDQIlijJSsZzBbgqGTty")
LETTERS = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in DIGIT_LIKE]
SYMBOLS = list("+=%#@&?!*<>~^$") + ["\u00d7", "\u00f7", "\u03c0", "\u03a3", "\u221a", "\u221e", "\u20ac", "\u00a7"]
# Letters as strokes on a unit square (x right, y down): each a list of polylines.
STROKES = {
    "A": [[(0.1, 1), (0.5, 0), (0.9, 1)], [(0.28, 0.6), (0.72, 0.6)]],
    "E": [[(0.85, 0), (0.15, 0), (0.15, 1), (0.85, 1)], [(0.15, 0.5), (0.7, 0.5)]],
    "F": [[(0.85, 0), (0.15, 0), (0.15, 1)], [(0.15, 0.5), (0.7, 0.5)]],
    "H": [[(0.15, 0), (0.15, 1)], [(0.85, 0), (0.85, 1)], [(0.15, 0.5), (0.85, 0.5)]],
    "K": [[(0.2, 0), (0.2, 1)], [(0.85, 0), (0.2, 0.55)], [(0.4, 0.4), (0.85, 1)]],
    "M": [[(0.1, 1), (0.15, 0), (0.5, 0.6), (0.85, 0), (0.9, 1)]],
    "N": [[(0.15, 1), (0.15, 0), (0.85, 1), (0.85, 0)]],
    "R": [[(0.2, 1), (0.2, 0), (0.7, 0.05), (0.8, 0.25), (0.7, 0.45), (0.2, 0.5)], [(0.45, 0.5), (0.85, 1)]],
    "V": [[(0.1, 0), (0.5, 1), (0.9, 0)]],
    "W": [[(0.05, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (0.95, 0)]],
    "X": [[(0.1, 0), (0.9, 1)], [(0.9, 0), (0.1, 1)]],
    "Y": [[(0.1, 0), (0.5, 0.5), (0.9, 0)], [(0.5, 0.5), (0.5, 1)]],
    "k": [[(0.25, 0), (0.25, 1)], [(0.8, 0.35), (0.25, 0.75)], [(0.45, 0.6), (0.85, 1)]],
    "m": [[(0.1, 1), (0.1, 0.35), (0.3, 0.3), (0.5, 0.45), (0.5, 1)], [(0.5, 0.45), (0.7, 0.3), (0.9, 0.4),
                                                                        (0.9, 1)]],
    "w": [[(0.05, 0.3), (0.25, 1), (0.5, 0.5), (0.75, 1), (0.95, 0.3)]],
    "x": [[(0.15, 0.3), (0.85, 1)], [(0.85, 0.3), (0.15, 1)]],
}
CONTENTS = ("letter", "symbol", "stroke-letter", "scribble", "shape", "noise", "piece", "pair")
SIDE, BOX = 28, 20


def fit_box(ink: np.ndarray) -> np.ndarray:
    """Ink (float, any size) scaled so its longer side is 20 px, centred on a 28x28 grid (MNIST style)."""
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.05), np.flatnonzero(ink.max(axis=0) > 0.05)
    if not len(rows):
        return np.zeros((SIDE, SIDE), np.uint8)
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = BOX / max(crop.shape)
    height, width = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    small = Image.fromarray((np.clip(crop, 0, 1) * 255).astype(np.uint8)).resize((width, height),
                                                                                 Image.Resampling.LANCZOS)
    grid = np.zeros((SIDE, SIDE), np.uint8)
    top, left = (SIDE - height) // 2, (SIDE - width) // 2
    grid[top:top + height, left:left + width] = np.asarray(small)
    return grid


def text_ink(char: str, rng: np.random.Generator) -> np.ndarray:
    font = ImageFont.truetype(str(FONT_DIR / FONTS[rng.integers(len(FONTS))]), 96)
    canvas = Image.new("L", (200, 200), 0)
    ImageDraw.Draw(canvas).text((40, 20), char, fill=255, font=font)
    return np.asarray(canvas, np.float32) / 255.0


def draw_lines(lines: list[list[tuple[float, float]]], rng: np.random.Generator, size: int = 112) -> np.ndarray:
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    width = int(rng.integers(7, 14))
    for line in lines:
        points = [(16 + (x + rng.normal(0, 0.04)) * (size - 32), 16 + (y + rng.normal(0, 0.04)) * (size - 32))
                  for x, y in line]
        draw.line(points, fill=255, width=width, joint="curve")
    return np.asarray(canvas, np.float32) / 255.0


def scribble(rng: np.random.Generator) -> np.ndarray:
    points = np.cumsum(rng.normal(0, 0.25, (int(rng.integers(8, 20)), 2)), axis=0)
    points = (points - points.min(axis=0)) / np.maximum(np.ptp(points, axis=0), 1e-6)
    t = np.linspace(0, 1, 12 * len(points))
    smooth = np.stack([np.interp(t, np.linspace(0, 1, len(points)), points[:, k]) for k in (0, 1)], axis=1)
    return draw_lines([[tuple(p) for p in smooth]], rng)


def shape(rng: np.random.Generator) -> np.ndarray:
    size = 112
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    kind = ["square", "triangle", "star", "cross", "heart"][int(rng.integers(5))]
    filled = rng.random() < 0.5
    width = int(rng.integers(6, 12))
    if kind == "square":
        box = [16, 16 + rng.integers(0, 20), 96, 96]
        draw.rectangle(box, fill=255 if filled else None, outline=255, width=width)
    elif kind == "cross":
        draw.line([(56, 12), (56, 100)], fill=255, width=width + 4)
        draw.line([(12, 56), (100, 56)], fill=255, width=width + 4)
    else:
        if kind == "triangle":
            points = [(56, 12), (100, 96), (12, 96)]
        elif kind == "star":
            angles = np.pi / 2 + np.arange(10) * np.pi / 5
            radius = np.where(np.arange(10) % 2 == 0, 44, 18)
            points = [(56 + r * np.cos(a), 56 - r * np.sin(a)) for r, a in zip(radius, angles)]
        else:
            t = np.linspace(0, 2 * np.pi, 60)
            points = [(56 + 2.6 * 16 * np.sin(u) ** 3 / 1.0, 50 - 2.6 * (13 * np.cos(u) - 5 * np.cos(2 * u)
                                                                         - 2 * np.cos(3 * u) - np.cos(4 * u)))
                      for u in t]
        if filled:
            draw.polygon(points, fill=255)
        else:
            draw.line([*points, points[0]], fill=255, width=width, joint="curve")
    return np.asarray(canvas, np.float32) / 255.0


def noise(rng: np.random.Generator) -> np.ndarray:
    ink = (rng.random((SIDE, SIDE)) < rng.uniform(0.03, 0.15)).astype(np.float32) * rng.uniform(0.5, 1.0)
    return (ink * 255).astype(np.uint8)  # already on the grid: specks are scattered, not boxed


def piece(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ink = digit.astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    share = rng.uniform(0.33, 0.5)
    if rng.random() < 0.5:  # a top/bottom or left/right slice
        cut = max(1, int(ink.shape[0] * share))
        ink = ink[:cut] if rng.random() < 0.5 else ink[-cut:]
    else:
        cut = max(1, int(ink.shape[1] * share))
        ink = ink[:, :cut] if rng.random() < 0.5 else ink[:, -cut:]
    return ink


def pair(first: np.ndarray, second: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    gap = int(rng.integers(0, 6))
    return np.concatenate([first, np.zeros((SIDE, gap), np.uint8), second], axis=1).astype(np.float32) / 255.0


def content(name: str, rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """One non-digit as a 28x28 uint8 MNIST-style grid (white ink on black)."""
    pick = lambda: digits[int(rng.integers(len(digits)))]  # noqa: E731
    if name == "noise":
        return noise(rng)
    ink = {"letter": lambda: text_ink(LETTERS[int(rng.integers(len(LETTERS)))], rng),
           "symbol": lambda: text_ink(SYMBOLS[int(rng.integers(len(SYMBOLS)))], rng),
           "stroke-letter": lambda: draw_lines(STROKES[list(STROKES)[int(rng.integers(len(STROKES)))]], rng),
           "scribble": lambda: scribble(rng),
           "shape": lambda: shape(rng),
           "piece": lambda: piece(pick(), rng),
           "pair": lambda: pair(pick(), pick(), rng)}[name]()
    return fit_box(ink)


def make(out: Path, count: int = 40, seed: int = 0, data: str | None = None,
         kinds: tuple[str, ...] = KINDS) -> list[tuple[str, str, str]]:
    """Write ``count`` pictures of each content as each kind, and labels.csv; returns the rows."""
    images, _ = load_source(data)
    digits = images[len(images) // 2:]  # the second half: make_realworld_digits starts at the first
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, kind in enumerate(kinds):
        for c, name in enumerate(CONTENTS):
            rng = np.random.default_rng([seed, k, c, 7])
            for i in range(count):
                grid = content(name, rng, digits)
                rows.append((_render(kind, grid, rng, out, f"{name}-{i:04d}"), name, kind))
    with open(out / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "content", "kind"])
        writer.writerows(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=40, help="pictures of each content and kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help="IDX folder to take real digits from (default: bundled sample)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, from {','.join(KINDS)}")
    args = parser.parse_args()
    rows = make(args.out, args.count, args.seed, args.data, tuple(k for k in args.kinds.split(",") if k))
    print(f"wrote {len(rows)} pictures and labels.csv to {args.out}")


if __name__ == "__main__":
    main()
