"""Draw docs/images/read.png: one number per condition of make_numbers.py, read by digitkit.

    python scripts/make_read_figure.py [--data MNIST_IDX_DIR] [--model cnn-best@pretrained] [--seed 0]

Each row is a picture as digitkit reads it (grey), each digit found in a box (green when read
right, red when not) and, on the right, the condition, the true text and what was read.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_numbers  # noqa: E402
from make_realworld_digits import load_source  # noqa: E402

HEIGHT = 64
TEXT_WIDTH = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data")
    parser.add_argument("--model", default="cnn-best@pretrained")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "read.png")
    args = parser.parse_args()

    import digitkit
    from digitkit.intake import decode, to_grey

    images, labels = load_source(args.data)
    rows = []
    for condition in make_numbers.CONDITIONS:
        rng = np.random.default_rng([args.seed, make_numbers.CONDITIONS.index(condition), 99])
        sources = rng.choice(len(images), 6, replace=False)
        truth = "".join(str(int(labels[s])) for s in sources)
        image, _, suffix = make_numbers.make_one(condition, [images[s] for s in sources], rng)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG" if suffix == ".jpg" else "PNG")
        data = buffer.getvalue()
        reading = digitkit.read(data, model=args.model).readings[0]
        grey = to_grey(decode(data))
        scale = HEIGHT / grey.shape[0]
        shown = Image.fromarray(np.round(grey * 255).astype(np.uint8)).convert("RGB")
        shown = shown.resize((max(1, round(grey.shape[1] * scale)), HEIGHT), Image.Resampling.BILINEAR)
        draw = ImageDraw.Draw(shown)
        for i, d in enumerate(reading.digits):
            right = i < len(truth) and str(d.digit) == truth[i] and len(reading.digits) == len(truth)
            x0, y0, x1, y1 = (round(v * scale) for v in d.box)
            draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=(0, 160, 0) if right else (210, 0, 0), width=2)
        rows.append((shown, f"{condition}: {truth} -> {reading.text.replace(chr(10), ' / ')}"))
    width = max(r.width for r, _ in rows) + TEXT_WIDTH
    figure = Image.new("RGB", (width, (HEIGHT + 6) * len(rows)), "white")
    draw = ImageDraw.Draw(figure)
    for i, (shown, caption) in enumerate(rows):
        figure.paste(shown, (0, i * (HEIGHT + 6)))
        draw.text((width - TEXT_WIDTH + 10, i * (HEIGHT + 6) + HEIGHT // 2 - 6), caption, fill="black")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
