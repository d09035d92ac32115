"""Writing styles MNIST's writers rarely used: for training, and for the real-world benchmark kinds.

Used by ``Recipe(writing_styles=SHARE)`` (:func:`restyle`: cnn-best's recipe redraws a share
of its training 7s and 1s before training) and by ``scripts/make_realworld_digits.py`` (the
kinds ``seven-bar``, ``one-flag``, ``four-open``, ``nine-straight`` and ``one-stroke``):

- from MNIST test digits, where a stroke can be added to a real writer's digit: a
  continental 7 (a bar across the stem, found in the ink at 40-60 % of the height) and a 1
  with a long flag and a foot (from the stem's two ends);
- drawn procedurally, where no MNIST digit has the shape to start from: a 4 open at the top,
  a 9 with a straight tail, and a 1 as one plain stroke, as pen strokes with a random width,
  slant, proportions and jitter.

Both end as MNIST digits are made (NIST's strokes blurred, the longer side scaled to 20 px
with anti-aliasing, the centre of mass at the middle of 28x28), so only the style differs
from MNIST, never the framing. Everything is drawn at 4x (pen width, caps, joins) and scaled
down, as MNIST's anti-aliasing did.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

UP = 4  # drawing resolution over MNIST's 28 px
FROM_MNIST = {"seven-bar": 7, "one-flag": 1}  # kind -> the label of the test digits it starts from
DRAWN = {"four-open": 4, "nine-straight": 9, "one-stroke": 1}
STYLES = (*FROM_MNIST, *DRAWN)
LABELS = {**FROM_MNIST, **DRAWN}


def mnist_digit(ink: np.ndarray) -> np.ndarray:
    """Ink (float, any size, 1 = ink) framed as MNIST frames a digit: uint8, 28x28, white on black."""
    rows = np.flatnonzero(ink.max(axis=1) > 0.05)
    cols = np.flatnonzero(ink.max(axis=0) > 0.05)
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = 20.0 / max(crop.shape)
    width, height = max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))
    small = Image.fromarray(np.clip(crop * 255, 0, 255).astype(np.uint8))
    small = np.asarray(small.resize((width, height), Image.Resampling.LANCZOS), np.float32)
    small = np.clip(small, 0, 255)
    mass = small.sum()
    com_r = float(small.sum(axis=1) @ np.arange(height)) / mass
    com_c = float(small.sum(axis=0) @ np.arange(width)) / mass
    top = min(max(round(14 - com_r), 0), 28 - height)
    left = min(max(round(14 - com_c), 0), 28 - width)
    out = np.zeros((28, 28), np.float32)
    out[top:top + height, left:left + width] = small * (255.0 / max(float(small.max()), 1.0))
    return out.round().astype(np.uint8)


def _pen(draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], width: float) -> None:
    """A polyline with round caps and joins, as a ball-point draws it."""
    draw.line(points, fill=255, width=max(1, round(width)), joint="curve")
    radius = width / 2.0
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)


def _with_strokes(digit: np.ndarray, strokes: list[list[tuple[float, float]]], width: float) -> np.ndarray:
    """The MNIST digit at 4x with pen strokes added (points in 4x pixels), as MNIST-framed uint8."""
    side = 28 * UP
    ink = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    added = Image.new("L", (side, side))
    draw = ImageDraw.Draw(added)
    for points in strokes:
        _pen(draw, points, width)
    added = added.filter(ImageFilter.GaussianBlur(UP * 0.35))  # the soft edge MNIST's strokes have
    both = np.maximum(np.asarray(ink, np.float32), np.asarray(added, np.float32)) / 255.0
    return mnist_digit(both)


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each stretch of ink (> 0.5) in a row."""
    ink = np.concatenate([[False], row > 0.5, [False]])
    edges = np.flatnonzero(ink[1:] != ink[:-1])
    return list(zip(edges[::2], edges[1::2]))


def _ink(digit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The digit at 4x (float, 1 = ink), and the rows and columns holding ink."""
    big = np.asarray(Image.fromarray(digit).resize((28 * UP, 28 * UP), Image.Resampling.BICUBIC), np.float32) / 255
    return big, np.flatnonzero(big.max(axis=1) > 0.5), np.flatnonzero(big.max(axis=0) > 0.5)


def continental_seven(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST 7 with a bar across its stem (the continental 7), MNIST-framed uint8."""
    big, rows, cols = _ink(digit)
    top, bottom = rows[0], rows[-1]
    height = bottom - top + 1
    row = int(top + height * rng.uniform(0.4, 0.6))
    runs = _runs(big[row])
    # The stem is the stretch of ink at that height; where several (a curled 7), the widest.
    start, stop = max(runs, key=lambda r: r[1] - r[0]) if runs else (cols[0], cols[-1] + 1)
    centre = (start + stop) / 2.0 + rng.uniform(-0.04, 0.04) * height
    # A cut across a slanted stem is wider than the pen; 0.8 of it is close to the pen's width.
    width = float(np.clip((stop - start) * 0.8, 0.08 * height, 0.2 * height))
    half = height * rng.uniform(0.16, 0.3)
    tilt = np.tan(np.radians(rng.uniform(-10, 6))) * half  # a bar rises to the right as often as not
    left, right = centre - half * rng.uniform(0.8, 1.2), centre + half * rng.uniform(0.8, 1.2)
    return _with_strokes(digit, [[(left, row + tilt), (right, row - tilt)]], width)


def flagged_one(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST 1 with a long flag from its top and a foot (base serif), MNIST-framed uint8."""
    big, rows, cols = _ink(digit)
    top, bottom = rows[0], rows[-1]
    height = bottom - top + 1
    band = max(2, height // 12)

    def centre_of(r0: int, r1: int) -> float:
        weights = big[r0:r1].sum(axis=0)
        return float(weights @ np.arange(big.shape[1]) / max(weights.sum(), 1e-6))

    runs = _runs(big[top + height // 2])
    start, stop = max(runs, key=lambda r: r[1] - r[0]) if runs else (cols[0], cols[-1] + 1)
    width = float(np.clip((stop - start) * 0.85, 0.07 * height, 0.2 * height))
    head = np.array([centre_of(top, top + band), top + width / 2])
    foot = np.array([centre_of(bottom - band, bottom + 1), bottom - width / 2])
    down = (foot - head) / max(float(np.hypot(*(foot - head))), 1e-6)
    left = np.array([-down[1], down[0]])  # the stem's left side (image y grows downwards)
    angle = np.radians(rng.uniform(20, 50))
    flag = head + height * rng.uniform(0.3, 0.55) * (np.cos(angle) * left + np.sin(angle) * down)
    half = height * rng.uniform(0.18, 0.35)
    across = np.array([1.0, rng.uniform(-0.08, 0.08)])
    strokes = [[tuple(flag), tuple(head)],
               [tuple(foot - across * half * rng.uniform(0.8, 1.2)), tuple(foot + across * half * rng.uniform(0.8, 1.2))]]
    return _with_strokes(digit, strokes, width)


def _draw(strokes: list[list[tuple[float, float]]], rng: np.random.Generator) -> np.ndarray:
    """Strokes in a unit-high box (x right, y down) drawn by a pen: a random width, slant and
    jitter, then MNIST-framed uint8."""
    height = 100.0
    slant = rng.uniform(-0.15, 0.45)  # x moves right by this much per unit of height climbed
    width = height * rng.uniform(0.04, 0.18)
    wobble = rng.normal(0, 0.008, (2, 4))  # a slow waver along each axis, as a hand has
    canvas = Image.new("L", (int(height * 2.2), int(height * 1.6)))
    draw = ImageDraw.Draw(canvas)
    for points in strokes:
        dense = []
        for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
            steps = max(2, int(np.hypot(x1 - x0, y1 - y0) * 20))
            for t in np.linspace(0, 1, steps, endpoint=False):
                dense.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
        dense.append(points[-1])
        shown = []
        for x, y in dense:
            x += slant * (1 - y) + wobble[0] @ np.sin(np.arange(1, 5) * np.pi * y)
            y += wobble[1] @ np.sin(np.arange(1, 5) * np.pi * x)
            shown.append((0.6 * height + x * height, 0.3 * height + y * height))
        _pen(draw, shown, width)
    ink = np.asarray(canvas.filter(ImageFilter.GaussianBlur(width * 0.15)), np.float32) / 255.0
    return mnist_digit(ink)


def open_four(rng: np.random.Generator) -> np.ndarray:
    """A 4 open at the top: a left stroke down into the crossbar, and a stem that does not meet it."""
    bar = rng.uniform(0.45, 0.75)
    left_top = (rng.uniform(0.0, 0.4), rng.uniform(0.0, 0.15))
    left_bottom = (rng.uniform(-0.1, 0.15), bar)
    stem_x = rng.uniform(0.45, 0.75)
    bar_end = (stem_x + rng.uniform(0.05, 0.4), bar + rng.uniform(-0.08, 0.05))
    stem = [(stem_x, rng.uniform(0.0, 0.3)), (stem_x + rng.uniform(-0.08, 0.05), 1.0)]
    if rng.random() < 0.5:  # one stroke: down, then across
        return _draw([[left_top, left_bottom, bar_end], stem], rng)
    return _draw([[left_top, left_bottom], [left_bottom, bar_end], stem], rng)


def straight_nine(rng: np.random.Generator) -> np.ndarray:
    """A 9 whose tail is a straight line down from the loop's right side."""
    centre = np.array([rng.uniform(0.3, 0.5), rng.uniform(0.15, 0.35)])
    radius = np.array([rng.uniform(0.15, 0.38), rng.uniform(0.12, 0.3)])
    start = rng.uniform(-0.3, 0.3)  # radians from the right side; the pen goes up and round to the left
    # The loop closes, overshoots a little, or stops short of closing (a gap on the right).
    turns = np.linspace(start, start - 2 * np.pi + rng.uniform(-0.4, 0.5), 40)
    loop = [tuple(centre + radius * np.array([np.cos(a), np.sin(a)])) for a in turns]
    joint = (centre[0] + radius[0], centre[1] + rng.uniform(0.0, 0.08))
    tail = (joint[0] + rng.uniform(-0.25, 0.05), 1.0)
    return _draw([loop + [joint, tail]], rng)


def plain_one(rng: np.random.Generator) -> np.ndarray:
    """A 1 as one plain stroke, top to bottom (with the slight bow a quick hand gives it)."""
    bow = rng.uniform(-0.04, 0.04)
    return _draw([[(0.5, 0.0), (0.5 + bow, 0.5), (0.5, 1.0)]], rng)


def styled(kind: str, digit: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """The ``kind`` of writing style as an MNIST-framed digit (``digit``: the test digit it
    starts from, for the kinds made from MNIST; ``None`` for the drawn ones)."""
    if kind == "seven-bar":
        return continental_seven(digit, rng)
    if kind == "one-flag":
        return flagged_one(digit, rng)
    return {"four-open": open_four, "nine-straight": straight_nine, "one-stroke": plain_one}[kind](rng)


# label -> the style a training digit of that label can be redrawn in (from the digit itself,
# keeping its writer's stroke; the drawn kinds have no digit to start from, so they stay out of
# training and measure what the model learnt from MNIST alone).
RESTYLE = {7: "seven-bar", 1: "one-flag"}


def restyle(images: np.ndarray, labels: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, dict[int, int]]:
    """A copy of ``images`` with ``share`` of each :data:`RESTYLE` label's digits redrawn in its style.

    Args:
        images: uint8 MNIST-framed digits, (N, 28, 28) or (N, 28, 28, 1).
        labels: their integer labels.
        share: the fraction of each restyled label's digits to redraw, in [0, 1].
        seed: the random stream (which digits, and each one's bar or flag).

    Returns:
        The images (the input's shape and dtype) and how many digits of each label were redrawn.
    """
    rng = np.random.default_rng([int(seed), 29])  # 29: the issue that added it, apart from the fit's other streams
    out = images.copy()
    flat = out.reshape(len(out), 28, 28)
    counts: dict[int, int] = {}
    for label, kind in RESTYLE.items():
        index = np.flatnonzero(labels == label)
        picked = index[rng.random(len(index)) < share]
        for i in picked:
            flat[i] = styled(kind, flat[i], rng)
        counts[label] = len(picked)
    return out, counts


def scanned(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The styled digit as a plain scan: dark ink on white, 3-6x larger (bicubic)."""
    factor = int(rng.integers(3, 7))
    return Image.fromarray(255 - digit).resize((28 * factor, 28 * factor), Image.Resampling.BICUBIC)
