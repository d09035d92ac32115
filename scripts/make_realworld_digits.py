"""Make "digits as people send them" from real, held-out MNIST test digits.

    python scripts/make_realworld_digits.py OUT_DIR [--count 1000] [--seed 0] [--data DIR]
                                            [--kinds photo,canvas,...,one-stroke]

Each digit of the test split (the bundled sample's, or of the MNIST IDX folder given with
``--data``) is drawn as one of these kinds, ``--count`` of each:

- ``photo``: dark ink on light paper as a phone photo or scan shows it: scaled up 3-10x,
  off-centre on a larger sheet, slightly rotated, in a black, blue, red, green or
  pencil-grey pen, on white, cream or grey paper with grain and noise, under uneven lighting
  (a shadow gradient), slightly blurred, saved as JPEG (quality 45-95) or PNG.
- ``canvas``: a drawing exported from an HTML canvas or a drawing app: an RGBA PNG whose
  background is fully transparent and whose strokes carry the pen colour (any colour, white
  included) with anti-aliased alpha; the colour channels are flat (the pen colour, or black
  where nothing was drawn, as browsers store it).
- ``binary16`` / ``binary32``: a low-resolution binary form scan: the digit's bounding box
  stretched to fill the whole 16x16 or 32x32 box (aspect ratio lost, as in several public
  digit sets), thresholded to black and white, saved as a 1-bit PNG, dark on light.
- ``upscale8``: an 8x8 digit with 17 grey levels (4x4 blocks of the 32x32 binary scan
  counted, as in the UCI optical-digits set), scaled up 8-32x (nearest neighbour or
  bilinear) as people do to look at one, dark on light.
- ``phone``: a phone photo of a digit written on a sheet of paper, as people take them: the
  digit as a thin (2-5 % of its height) or thick (8-14 %) pen stroke, small (3-15 % of the
  frame's height) in a large frame (1,280-2,400 px on its longer side), on white, beige, grey
  or blue paper, with a cast shadow of random shape and softness (bluish, as in daylight)
  across part of the sheet, a dark table or paper-edge band along one or two borders in most
  photos, a perspective tilt, a light gradient, sensor noise, saved as JPEG at phone quality
  (70-92) with an EXIF orientation (the pixels are stored turned, as a phone does). Needs
  SciPy (the test extra) to draw the pen strokes.
- writing styles rare among MNIST's writers (``digitkit.zoo.writing_styles``), each saved as a plain
  scan (dark on white, 3-6x, PNG) of an MNIST-framed digit, so only the style is new:
  ``seven-bar`` (a continental 7: a bar across the stem of a test 7) and ``one-flag`` (a
  test 1 with a long flag and a foot), made from the test digits of that label (in order,
  starting over when ``--count`` is larger than there are); ``four-open`` (a 4 open at
  the top), ``nine-straight`` (a 9 with a straight tail) and ``one-stroke`` (a 1 as one
  plain stroke), drawn as pen strokes with a random width, slant, proportions and jitter:
  no test digit is their source.

The same seed gives the same files. ``labels.csv`` lists ``file,label,kind,source``, where
``source`` is the index of the test digit (in the ``--data`` folder's test split, or the
bundled sample's) the file was made from (empty for the drawn kinds), so a benchmark can
score the model on the clean source digits too; files of a kind other than ``photo`` are in a folder named after the kind.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from digitkit.zoo import writing_styles

PENS = {"black": (25, 25, 30), "blue": (25, 45, 160), "red": (170, 30, 35), "green": (30, 100, 50),
        "pencil": (95, 95, 100)}
PAPERS = [(250, 250, 248), (245, 238, 215), (228, 228, 225), (240, 243, 250)]
# New kinds go at the end: a kind's test digits and random stream follow from its place.
KINDS = ("photo", "canvas", "binary16", "binary32", "upscale8", "phone", *writing_styles.STYLES)
# Paper for phone photos: white, beige, grey, blue.
PHONE_PAPERS = [(244, 244, 240), (236, 222, 190), (196, 196, 192), (168, 192, 226)]
PHONE_PENS = [(20, 20, 28), (25, 40, 140), (40, 40, 48), (30, 30, 90)]
TABLES = [(60, 45, 35), (30, 30, 32), (110, 80, 55), (85, 85, 90), (140, 120, 100)]
# EXIF orientation -> the transpose that turns the upright picture into the stored pixels.
_STORED = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def photograph(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """One MNIST digit (uint8, white on black) as a colour photo of ink on paper."""
    scale = rng.uniform(3, 10)
    side = int(28 * scale)
    ink = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    ink = ink.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR, expand=True)
    width = int(ink.width * rng.uniform(1.1, 2.6))
    height = int(ink.height * rng.uniform(1.1, 2.2))
    left = int(rng.integers(0, width - ink.width + 1))
    top = int(rng.integers(0, height - ink.height + 1))
    amount = np.zeros((height, width), np.float32)
    amount[top:top + ink.height, left:left + ink.width] = np.asarray(ink, np.float32) / 255.0
    amount *= rng.uniform(0.7, 1.0)  # pen pressure / faded ink

    paper = np.array(PAPERS[rng.integers(len(PAPERS))], np.float32)
    pen = np.array(list(PENS.values())[rng.integers(len(PENS))], np.float32)
    grain = Image.fromarray((rng.random((max(2, height // 8), max(2, width // 8))) * 255).astype(np.uint8))
    grain = np.asarray(grain.resize((width, height), Image.Resampling.BICUBIC), np.float32) / 255.0 - 0.5
    sheet = paper[None, None, :] * (1 + 0.04 * grain[..., None])
    picture = sheet * (1 - amount[..., None]) + pen[None, None, :] * amount[..., None]

    angle = rng.uniform(0, 2 * np.pi)  # a shadow falling across the sheet
    ys, xs = np.mgrid[0:height, 0:width]
    ramp = (np.cos(angle) * xs / width + np.sin(angle) * ys / height)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    picture *= (1 - rng.uniform(0.0, 0.45) * ramp)[..., None]
    picture += rng.normal(0, rng.uniform(2, 9), picture.shape)
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8), "RGB")
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2)))


def canvas_drawing(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """One MNIST digit drawn with a pen of any colour on a transparent canvas (RGBA)."""
    scale = rng.uniform(4, 12)
    side = int(28 * scale)
    ink = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255.0
    # A drawing app's stroke is solid with a soft anti-aliased edge, not MNIST's grey blur.
    alpha = np.clip((ink - 0.25) * 3.0, 0.0, 1.0)
    width = int(side * rng.uniform(1.0, 1.8))
    height = int(side * rng.uniform(1.0, 1.6))
    top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    canvas_alpha = np.zeros((height, width), np.float32)
    canvas_alpha[top:top + side, left:left + side] = alpha
    choice = rng.random()
    if choice < 0.35:
        pen = np.array([255, 255, 255])  # a white pen: invisible when composited on white
    elif choice < 0.55:
        pen = np.array([0, 0, 0])
    else:
        pen = rng.integers(0, 256, 3)
    rgba = np.zeros((height, width, 4), np.uint8)
    if rng.random() < 0.5:
        rgba[..., :3] = pen  # flat colour everywhere, only alpha varies
    else:
        rgba[canvas_alpha > 0, :3] = pen  # browsers store transparent pixels as (0, 0, 0, 0)
    rgba[..., 3] = np.round(canvas_alpha * 255).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


def stretched_binary(digit: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """The digit's bounding box stretched to ``side`` x ``side``, thresholded: bool, True = ink."""
    rows = np.flatnonzero(digit.max(axis=1) > 0)
    cols = np.flatnonzero(digit.max(axis=0) > 0)
    crop = digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    big = np.asarray(Image.fromarray(crop).resize((side, side), Image.Resampling.BILINEAR), np.float32)
    return big >= 255 * rng.uniform(0.35, 0.55)


def binary_scan(digit: np.ndarray, side: int, rng: np.random.Generator) -> Image.Image:
    """A 1-bit, dark-on-light, box-stretched ``side`` x ``side`` scan of the digit."""
    return Image.fromarray(~stretched_binary(digit, side, rng)).convert("1")


def upscaled_8x8(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """An 8x8, 17-level digit (UCI optical digits style) scaled up, dark on light."""
    ink = stretched_binary(digit, 32, rng).reshape(8, 4, 8, 4).sum(axis=(1, 3))  # 0..16
    small = Image.fromarray((255 - ink * 255 / 16).round().astype(np.uint8))
    factor = int(rng.integers(8, 33))
    method = Image.Resampling.NEAREST if rng.random() < 0.6 else Image.Resampling.BILINEAR
    return small.resize((8 * factor, 8 * factor), method)


def pen_strokes(digit: np.ndarray, height: int, width: float) -> np.ndarray:
    """The digit as a pen of ``width`` pixels would draw it ``height`` pixels tall: float32 ink
    in [0, 1] with a one-pixel anti-aliased edge, on a square of side ~``height * 1.4``."""
    from scipy import ndimage

    scale = height / 20.0  # MNIST digits are 20 px tall in their 28 px box
    side = max(8, int(round(28 * scale)))
    grey = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255.0
    mask = grey > 0.45
    inside = ndimage.distance_transform_edt(mask)
    # The strokes' centre lines: pixels at least as deep in the ink as their neighbours
    # (less a little: along a stroke the depth changes slowly).
    ridge = mask & (inside >= ndimage.maximum_filter(inside, size=3) - 0.75)
    away = ndimage.distance_transform_edt(~ridge)
    return np.clip(width / 2.0 + 0.5 - away, 0.0, 1.0).astype(np.float32)


def _soft_blob(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A random shape (a polygon of 3-7 corners, partly outside the frame) with a random
    softness: float32 in [0, 1] at the frame's size."""
    from PIL import ImageDraw

    small_w, small_h = 160, max(8, int(160 * height / width))
    blob = Image.new("L", (small_w, small_h))
    centre = rng.uniform([-0.1, -0.1], [1.1, 1.1]) * (small_w, small_h)
    corners = int(rng.integers(3, 8))
    angles = np.sort(rng.uniform(0, 2 * np.pi, corners))
    radius = rng.uniform(0.3, 0.9, corners) * small_w
    points = [(float(centre[0] + r * np.cos(a)), float(centre[1] + r * np.sin(a))) for a, r in zip(angles, radius)]
    ImageDraw.Draw(blob).polygon(points, fill=255)
    blob = blob.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 8.0)))
    return np.asarray(blob.resize((width, height), Image.Resampling.BILINEAR), np.float32) / 255.0


def phone_photo(digit: np.ndarray, rng: np.random.Generator) -> tuple[Image.Image, int]:
    """One MNIST digit written on paper and photographed with a phone: the upright picture
    and the EXIF orientation to store it with."""
    longer = int(rng.integers(1280, 2401))
    width, height = longer, int(longer * rng.choice([0.75, 0.5625, 1.0]))
    if rng.random() < 0.5:
        width, height = height, width
    digit_h = int(round(height * rng.uniform(0.03, 0.15)))
    thin = rng.random() < 0.5
    pen_w = max(2.0, digit_h * (rng.uniform(0.02, 0.05) if thin else rng.uniform(0.08, 0.14)))
    ink = Image.fromarray((pen_strokes(digit, digit_h, pen_w) * 255).astype(np.uint8))
    ink = ink.rotate(rng.uniform(-10, 10), resample=Image.Resampling.BILINEAR, expand=True)
    # A perspective tilt: the corners of the patch moved by up to 12 % of its side.
    w, h = ink.size
    jitter = rng.uniform(-0.12, 0.12, 8) * np.array([w, h] * 4)
    corners = np.array([0, 0, 0, h, w, h, w, 0], np.float64) + jitter  # QUAD: UL, LL, LR, UR
    ink = ink.transform((w, h), Image.Transform.QUAD, tuple(corners), Image.Resampling.BILINEAR)
    amount = np.zeros((height, width), np.float32)
    margin_x, margin_y = int(width * 0.2), int(height * 0.2)
    left = int(rng.integers(margin_x, max(margin_x + 1, width - margin_x - w)))
    top = int(rng.integers(margin_y, max(margin_y + 1, height - margin_y - h)))
    patch = np.asarray(ink, np.float32)[: height - top, : width - left] / 255.0
    amount[top:top + patch.shape[0], left:left + patch.shape[1]] = patch * rng.uniform(0.8, 1.0)

    paper = np.array(PHONE_PAPERS[rng.integers(len(PHONE_PAPERS))], np.float32)
    pen = np.array(PHONE_PENS[rng.integers(len(PHONE_PENS))], np.float32)
    grain = Image.fromarray((rng.random((height // 16 + 2, width // 16 + 2)) * 255).astype(np.uint8))
    grain = np.asarray(grain.resize((width, height), Image.Resampling.BICUBIC), np.float32) / 255.0 - 0.5
    picture = paper * (1 + 0.03 * grain[..., None])
    picture = picture * (1 - amount[..., None]) + pen * amount[..., None]

    # Borders: a table or the paper's edge along one or two sides (in 70 % of the photos).
    sides = rng.permutation(4)[: int(rng.choice([0, 1, 2], p=[0.3, 0.4, 0.3]))]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    for side in sides:
        depth = rng.uniform(0.03, 0.18)
        slope = rng.uniform(-0.05, 0.05)
        if side == 0:
            band = ys < height * depth + slope * (xs - width / 2)
        elif side == 1:
            band = ys > height * (1 - depth) + slope * (xs - width / 2)
        elif side == 2:
            band = xs < width * depth + slope * (ys - height / 2)
        else:
            band = xs > width * (1 - depth) + slope * (ys - height / 2)
        table = np.array(TABLES[rng.integers(len(TABLES))], np.float32)
        picture[band] = table * (1 + 0.1 * grain[band][:, None])
    # Light: a gradient across the frame, and a cast shadow (bluish) over part of it.
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xs / width + np.sin(angle) * ys / height
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    picture *= (1 - rng.uniform(0.0, 0.3) * ramp)[..., None]
    if rng.random() < 0.85:
        shadow = _soft_blob(height, width, rng) * rng.uniform(0.3, 0.65)
        tint = np.array([1.0, 0.97, 0.85], np.float32)  # blue light passes: red and green go first
        picture *= 1 - shadow[..., None] * tint
    picture += rng.normal(0, rng.uniform(1.5, 5), (height, width, 1)).astype(np.float32)
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.2)))
    return image, int(rng.choice([1, 1, 6, 3, 8]))


def save_phone(image: Image.Image, orientation: int, path: Path, quality: int) -> None:
    """Save as a phone does: the sensor's pixels, turned, with an EXIF orientation."""
    method = _STORED[orientation]
    stored = image.transpose(method) if method is not None else image
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(path, quality=quality, exif=exif.tobytes())


def load_source(data: str | None) -> tuple[np.ndarray, np.ndarray]:
    if data:
        from digitkit.data.idx import find_idx_files, read_idx_pair

        return read_idx_pair(*find_idx_files(data, "test"))
    from digitkit.data import load_digits

    digits = load_digits("sample", split="test")
    return digits.images, digits.labels


def _render(kind: str, digit: np.ndarray, rng: np.random.Generator, out: Path, stem: str) -> str:
    if kind == "photo":
        image = photograph(digit, rng)
        if rng.random() < 0.75:
            image.save(out / f"{stem}.jpg", quality=int(rng.integers(45, 96)))
            return f"{stem}.jpg"
        image.save(out / f"{stem}.png")
        return f"{stem}.png"
    if kind == "phone":
        image, orientation = phone_photo(digit, rng)
        (out / kind).mkdir(exist_ok=True)
        save_phone(image, orientation, out / kind / f"{stem}.jpg", int(rng.integers(70, 93)))
        return f"{kind}/{stem}.jpg"
    if kind in writing_styles.STYLES:
        image = writing_styles.scanned(writing_styles.styled(kind, digit, rng), rng)
        (out / kind).mkdir(exist_ok=True)
        image.save(out / kind / f"{stem}.png")
        return f"{kind}/{stem}.png"
    image = {"canvas": lambda: canvas_drawing(digit, rng),
             "binary16": lambda: binary_scan(digit, 16, rng),
             "binary32": lambda: binary_scan(digit, 32, rng),
             "upscale8": lambda: upscaled_8x8(digit, rng)}[kind]()
    (out / kind).mkdir(exist_ok=True)
    image.save(out / kind / f"{stem}.png")
    return f"{kind}/{stem}.png"


def sources(kind: str, count: int, labels: np.ndarray) -> list[int | None]:
    """The test digits a kind's files are made from (``None``: drawn, no source).

    The capture kinds use disjoint test digits (photo the first ``count``, the next kind the
    next ``count``, ...); a writing style made from MNIST takes the test digits of its label
    in order, starting over when there are fewer than ``count``.
    """
    if kind in writing_styles.DRAWN:
        return [None] * count
    if kind in writing_styles.FROM_MNIST:
        index = np.flatnonzero(labels == writing_styles.FROM_MNIST[kind])
        return [int(i) for i in index[np.arange(count) % len(index)]]
    start = KINDS.index(kind) * count
    return list(range(start, min(start + count, len(labels))))


def make(out: Path, count: int = 1000, seed: int = 0, data: str | None = None,
         kinds: tuple[str, ...] = ("photo",)) -> list[tuple[str, int]]:
    """Write ``count`` digits of each kind and labels.csv into ``out``; returns (file, label).

    Each kind has its own test digits (:func:`sources`) and its own random stream, so
    adding a kind changes no other file.
    """
    images, labels = load_source(data)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"expected kinds from {KINDS}. Received: {sorted(unknown)}")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in kinds:
        rng = np.random.default_rng([seed, KINDS.index(kind)] if kind != "photo" else seed)
        for n, i in enumerate(sources(kind, count, labels)):
            if i is None:  # drawn: named by its place, labelled by its style
                name = _render(kind, None, rng, out, f"{n:05d}")
                rows.append((name, writing_styles.LABELS[kind], kind, ""))
                continue
            # A style may use a test digit twice (fewer of its label than --count): the
            # file's name counts the files, not the digits.
            stem = f"{n:05d}-{i:05d}" if kind in writing_styles.FROM_MNIST else f"{i:05d}"
            name = _render(kind, images[i], rng, out, stem)
            rows.append((name, int(labels[i]), kind, i))
    with open(out / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label", "kind", "source"])
        writer.writerows(rows)
    return [(name, label) for name, label, _, _ in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=1000, help="digits of each kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help="IDX folder to take test digits from (default: bundled sample)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, from {','.join(KINDS)}")
    args = parser.parse_args()
    kinds = tuple(k for k in args.kinds.split(",") if k)
    rows = make(args.out, args.count, args.seed, args.data, kinds)
    print(f"wrote {len(rows)} digits ({', '.join(kinds)}) and labels.csv to {args.out}")


if __name__ == "__main__":
    main()
