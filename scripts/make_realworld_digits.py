"""Make "digits written on paper, photographed or scanned" from real MNIST digits.

    python scripts/make_realworld_digits.py OUT_DIR [--count 1000] [--seed 0] [--data DIR]

Each digit of the bundled sample's test split (or an IDX folder given with ``--data``) is
drawn as dark ink on light paper the way a phone photo or a scan shows it: scaled up 3-10x,
off-centre on a larger sheet, slightly rotated, in a black, blue, red, green or pencil-grey
pen, on white, cream or grey paper with grain and noise, under uneven lighting (a shadow
gradient), slightly blurred, saved as JPEG (quality 45-95) or PNG. The same seed gives the
same files. ``labels.csv`` lists ``file,label``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

PENS = {"black": (25, 25, 30), "blue": (25, 45, 160), "red": (170, 30, 35), "green": (30, 100, 50),
        "pencil": (95, 95, 100)}
PAPERS = [(250, 250, 248), (245, 238, 215), (228, 228, 225), (240, 243, 250)]


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


def load_source(data: str | None):
    from digitkit.data import load_digits

    return load_digits(data or "sample", split="test")


def make(out: Path, count: int = 1000, seed: int = 0, data: str | None = None) -> list[tuple[str, int]]:
    """Write ``count`` photographed digits and labels.csv into ``out``; returns (file, label)."""
    digits = load_source(data)
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(min(count, len(digits))):
        image = photograph(digits.images[i], rng)
        label = int(digits.labels[i])
        if rng.random() < 0.75:
            name = f"{i:05d}.jpg"
            image.save(out / name, quality=int(rng.integers(45, 96)))
        else:
            name = f"{i:05d}.png"
            image.save(out / name)
        rows.append((name, label))
    with open(out / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label"])
        writer.writerows(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help="IDX folder to take test digits from (default: bundled sample)")
    args = parser.parse_args()
    rows = make(args.out, args.count, args.seed, args.data)
    print(f"wrote {len(rows)} photographed digits and labels.csv to {args.out}")


if __name__ == "__main__":
    main()
