"""Make pictures of written numbers from real, held-out MNIST test digits.

    python scripts/make_numbers.py OUT_DIR [--count 1000] [--seed 0] [--data MNIST_IDX_DIR]
                                   [--digits 4-8] [--conditions separated,touching,...]

Each number is 1-10 MNIST **test** digits (the bundled sample's test split, or the IDX
folder given with ``--data``), each cropped to its ink and scaled to 28 px of ink height,
laid left to right, in one of these conditions (``--count`` numbers each):

- ``separated``: gaps of 2-12 px between digits;
- ``touching``: gaps of -4 to 0 px (digits touch or overlap);
- ``broken``: separated, with 1-2 breaks (2-3 px) in each digit's strokes;
- ``slanted``: separated, then sheared by up to +-15 degrees;
- ``uneven``: separated, digit heights 20-34 px and baselines moved by up to +-5 px;
- ``ruled``: on a form line: a ruled line under the digits (touching some) and one above;
- ``boxed``: each digit in its box of a form field (a comb of box borders);
- ``photo``, ``canvas``, ``binary``: the kinds of scripts/make_realworld_digits.py for a
  whole number (phone photo of ink on paper, transparent-canvas drawing, 1-bit scan).

Pictures are written as ``CONDITION/NNNNN_TEXT.png`` (``.jpg`` for some photos), so the
file name says the true text; ``labels.csv`` lists ``file,text,condition,boxes,sources``
with each digit's box ``x0 y0 x1 y1`` (exclusive ends, ``;`` between digits) in the
picture's pixels and the indices of the test digits used. The same seed gives the same files.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_realworld_digits import PAPERS, PENS, load_source  # noqa: E402

CONDITIONS = ("separated", "touching", "broken", "slanted", "uneven", "ruled", "boxed", "photo", "canvas",
              "binary")
INK_HEIGHT = 28
MARGIN = 10


def crop_ink(digit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(digit.max(axis=1) > 0)
    cols = np.flatnonzero(digit.max(axis=0) > 0)
    return digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def scaled(digit: np.ndarray, height: int) -> np.ndarray:
    """The digit's ink scaled to ``height`` px (aspect kept), float in [0, 1]."""
    ink = crop_ink(digit)
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    return np.asarray(Image.fromarray(ink).resize((width, height), Image.Resampling.BILINEAR), np.float32) / 255


def compose(digits: list[np.ndarray], gaps: list[int], offsets: list[int], pad: int = MARGIN,
            ) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """White ink on black: the digits left to right with the given gaps (negative overlaps,
    drawn as the maximum of the inks) and vertical offsets; each digit's box."""
    top = max(0, -min(offsets))
    height = max(d.shape[0] + o for d, o in zip(digits, offsets)) + top
    width = sum(d.shape[1] for d in digits) + sum(gaps) + 2 * pad
    canvas = np.zeros((height + 2 * pad, max(width, 2 * pad + 1)), np.float32)
    x, boxes = pad, []
    for i, (digit, offset) in enumerate(zip(digits, offsets)):
        y = pad + top + offset
        h, w = digit.shape
        region = canvas[y:y + h, x:x + w]
        np.maximum(region, digit, out=region)
        boxes.append((x, y, x + w, y + h))
        x += w + (gaps[i] if i < len(gaps) else 0)
    return canvas, boxes


def erase_bands(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1-2 breaks in the strokes: a band 2-3 px wide, at a random angle, erased within 5-7 px
    of a random point of the ink (a pen skipping, a scan losing a thin stretch)."""
    h, w = ink.shape
    ys, xs = np.mgrid[0:h, 0:w]
    out = ink.copy()
    inked = np.flatnonzero(ink.ravel() >= 0.5)
    for _ in range(int(rng.integers(1, 3))):
        if inked.size == 0:
            break
        cy, cx = divmod(int(inked[rng.integers(inked.size)]), w)
        angle = rng.uniform(0, np.pi)
        distance = np.abs((ys - cy) * np.cos(angle) - (xs - cx) * np.sin(angle))
        near = (ys - cy) ** 2 + (xs - cx) ** 2 <= rng.uniform(5, 7) ** 2
        out[(distance < rng.uniform(1.0, 1.6)) & near] = 0
    return out


def shear(canvas: np.ndarray, boxes, degrees: float):
    """Slant the whole number: x' = x + tan(angle) * (centre_y - y); boxes follow their ink."""
    h, w = canvas.shape
    t = np.tan(np.radians(degrees))
    extra = int(np.ceil(abs(t) * h)) + 2
    wide = np.zeros((h, w + 2 * extra), np.float32)
    wide[:, extra:extra + w] = canvas
    image = Image.fromarray(wide).transform(wide.shape[::-1], Image.Transform.AFFINE,
                                            (1, t, -t * h / 2, 0, 1, 0), Image.Resampling.BILINEAR)
    out = np.asarray(image, np.float32)
    new_boxes = []
    for x0, y0, x1, y1 in boxes:
        # x_out = x_in - t * (y - h / 2): the box's corners, sheared.
        xs = [x - t * (y - h / 2) + extra for x in (x0, x1) for y in (y0, y1)]
        new_boxes.append((int(np.floor(min(xs))), y0, int(np.ceil(max(xs))), y1))
    return out, new_boxes


def paper(ink: np.ndarray) -> Image.Image:
    """Dark ink on white paper, 8-bit grey."""
    return Image.fromarray(np.round(255 * (1 - np.clip(ink, 0, 1))).astype(np.uint8))


def form_lines(ink: np.ndarray, boxes, rng: np.random.Generator, boxed: bool) -> np.ndarray:
    """Add a form's printed lines (grey or black, 1-2 px) to white-on-black ink."""
    out = ink.copy()
    level = rng.uniform(0.5, 1.0)
    thick = int(rng.integers(1, 3))
    bottom = max(b[3] for b in boxes)
    top = min(b[1] for b in boxes)
    if boxed:
        y0, y1 = top - int(rng.integers(3, 7)), bottom + int(rng.integers(1, 5))
        out[max(0, y0):max(0, y0) + thick, :] = np.maximum(out[max(0, y0):max(0, y0) + thick, :], level)
        out[y1:y1 + thick, :] = np.maximum(out[y1:y1 + thick, :], level)
        edges = [boxes[0][0] - 4] + [(a[2] + b[0]) // 2 for a, b in zip(boxes, boxes[1:])] + [boxes[-1][2] + 4]
        for x in edges:
            x = max(0, min(out.shape[1] - thick, x))
            out[max(0, y0):y1 + thick, x:x + thick] = np.maximum(out[max(0, y0):y1 + thick, x:x + thick], level)
    else:
        y = bottom - int(rng.integers(0, 3))  # some digits sit on (touch) the line
        out[y:y + thick, :] = np.maximum(out[y:y + thick, :], level)
        above = top - int(rng.integers(4, 9))
        if above >= 0:
            out[above:above + thick, :] = np.maximum(out[above:above + thick, :], level)
    return out


def photo_number(ink: np.ndarray, rng: np.random.Generator) -> tuple[Image.Image, float, int, int]:
    """A whole number as make_realworld_digits.photograph draws one digit (its pens, papers,
    grain, shadow, noise, blur), scaled 1.5-4x; returns the picture and the scale/offset."""
    scale = rng.uniform(1.5, 4.0)
    h, w = ink.shape
    big = Image.fromarray(ink).resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC)
    width, height = int(big.width * rng.uniform(1.05, 1.4)), int(big.height * rng.uniform(1.1, 2.0))
    left, top = int(rng.integers(0, width - big.width + 1)), int(rng.integers(0, height - big.height + 1))
    amount = np.zeros((height, width), np.float32)
    amount[top:top + big.height, left:left + big.width] = np.clip(np.asarray(big, np.float32), 0, 1)
    amount *= rng.uniform(0.7, 1.0)
    sheet_colour = np.array(PAPERS[rng.integers(len(PAPERS))], np.float32)
    pen = np.array(list(PENS.values())[rng.integers(len(PENS))], np.float32)
    grain = Image.fromarray((rng.random((max(2, height // 8), max(2, width // 8))) * 255).astype(np.uint8))
    grain = np.asarray(grain.resize((width, height), Image.Resampling.BICUBIC), np.float32) / 255.0 - 0.5
    sheet = sheet_colour[None, None, :] * (1 + 0.04 * grain[..., None])
    picture = sheet * (1 - amount[..., None]) + pen[None, None, :] * amount[..., None]
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width]
    ramp = np.cos(angle) * xs / width + np.sin(angle) * ys / height
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    picture *= (1 - rng.uniform(0.0, 0.45) * ramp)[..., None]
    picture += rng.normal(0, rng.uniform(2, 9), picture.shape)
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8), "RGB")
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2))), scale, left, top


def canvas_number(ink: np.ndarray, rng: np.random.Generator) -> tuple[Image.Image, float]:
    """A whole number drawn on a transparent canvas, as make_realworld_digits.canvas_drawing."""
    scale = rng.uniform(1.5, 4.0)
    h, w = ink.shape
    big = np.asarray(Image.fromarray(ink).resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC),
                     np.float32)
    alpha = np.clip((big - 0.25) * 3.0, 0.0, 1.0)
    choice = rng.random()
    pen = np.array([255, 255, 255]) if choice < 0.35 else np.array([0, 0, 0]) if choice < 0.55 \
        else rng.integers(0, 256, 3)
    rgba = np.zeros((*alpha.shape, 4), np.uint8)
    if rng.random() < 0.5:
        rgba[..., :3] = pen
    else:
        rgba[alpha > 0, :3] = pen
    rgba[..., 3] = np.round(alpha * 255).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA"), scale


def make_one(condition: str, digits: list[np.ndarray], rng: np.random.Generator):
    """One picture of ``digits`` (MNIST uint8 arrays) in ``condition``; (image, boxes, suffix)."""
    n = len(digits)
    heights = [INK_HEIGHT] * n
    offsets = [0] * n
    if condition == "uneven":
        heights = [int(rng.integers(20, 35)) for _ in range(n)]
        offsets = [int(rng.integers(-5, 6)) + (INK_HEIGHT - h) // 2 for h in heights]
    inks = [scaled(d, h) for d, h in zip(digits, heights)]
    if condition == "broken":
        inks = [erase_bands(ink, rng) for ink in inks]
    low, high = (-4, 0) if condition == "touching" else (2, 12)
    if condition == "boxed":
        low, high = 8, 14  # room for a border between two digits
    gaps = [int(rng.integers(low, high + 1)) for _ in range(n - 1)]
    canvas, boxes = compose(inks, gaps, offsets)
    if condition == "slanted":
        canvas, boxes = shear(canvas, boxes, rng.uniform(-15, 15))
    if condition in ("ruled", "boxed"):
        canvas = form_lines(canvas, boxes, rng, condition == "boxed")
    if condition == "photo":
        image, scale, left, top = photo_number(canvas, rng)
        boxes = [(int(left + x0 * scale), int(top + y0 * scale), int(np.ceil(left + x1 * scale)),
                  int(np.ceil(top + y1 * scale))) for x0, y0, x1, y1 in boxes]
        return image, boxes, ".jpg" if rng.random() < 0.75 else ".png"
    if condition == "canvas":
        image, scale = canvas_number(canvas, rng)
        boxes = [(int(x0 * scale), int(y0 * scale), int(np.ceil(x1 * scale)), int(np.ceil(y1 * scale)))
                 for x0, y0, x1, y1 in boxes]
        return image, boxes, ".png"
    if condition == "binary":
        return Image.fromarray(canvas < rng.uniform(0.35, 0.55)).convert("1"), boxes, ".png"
    return paper(canvas), boxes, ".png"


def parse_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def make(out: Path, count: int = 1000, seed: int = 0, data: str | None = None, digits: tuple[int, int] = (4, 8),
         conditions: tuple[str, ...] = CONDITIONS) -> list[dict]:
    """Write ``count`` numbers per condition and labels.csv into ``out``; returns the rows."""
    images, labels = load_source(data)
    unknown = set(conditions) - set(CONDITIONS)
    if unknown:
        raise ValueError(f"expected conditions from {CONDITIONS}. Received: {sorted(unknown)}")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for condition in conditions:
        rng = np.random.default_rng([seed, CONDITIONS.index(condition)])
        (out / condition).mkdir(exist_ok=True)
        for i in range(count):
            n = int(rng.integers(digits[0], digits[1] + 1))
            sources = rng.choice(len(images), n, replace=False)
            text = "".join(str(int(labels[s])) for s in sources)
            image, boxes, suffix = make_one(condition, [images[s] for s in sources], rng)
            name = f"{condition}/{i:05d}_{text}{suffix}"
            if suffix == ".jpg":
                image.save(out / name, quality=int(rng.integers(45, 96)))
            else:
                image.save(out / name)
            rows.append({"file": name, "text": text, "condition": condition,
                         "boxes": ";".join(" ".join(map(str, b)) for b in boxes),
                         "sources": " ".join(map(str, sources.tolist()))})
    with open(out / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "text", "condition", "boxes", "sources"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=1000, help="numbers per condition")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help="MNIST IDX folder to take test digits from (default: bundled sample)")
    parser.add_argument("--digits", default="4-8", help="digits per number, e.g. 4-8 or 6")
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help=f"from {','.join(CONDITIONS)}")
    args = parser.parse_args()
    conditions = tuple(c for c in args.conditions.split(",") if c)
    rows = make(args.out, args.count, args.seed, args.data, parse_range(args.digits), conditions)
    print(f"wrote {len(rows)} numbers ({', '.join(conditions)}) and labels.csv to {args.out}")


if __name__ == "__main__":
    main()
