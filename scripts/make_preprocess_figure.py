"""Draw docs/images/preprocessing.png: digits as people send them, and what the model receives.

    python scripts/make_preprocess_figure.py [OUT_PNG]

One row per kind of input made by scripts/make_realworld_digits.py from the bundled
sample's test digits (a photo, a white pen on a transparent canvas, a box-stretched 16x16
binary scan, an 8x8 digit scaled up); left the file as given (transparency shown on a
checkerboard), right the 28x28 digit :func:`digitkit.intake.read_digit` makes of it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
CELL = 140


def _as_shown(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA":  # transparency on a checkerboard, as image editors show it
        ys, xs = np.mgrid[0:image.height, 0:image.width]
        board = np.where(((ys // 12 + xs // 12) % 2)[..., None] == 0, 200, 150).astype(np.uint8)
        background = Image.fromarray(np.repeat(board, 3, axis=2)).convert("RGBA")
        image = Image.alpha_composite(background, image)
    return fit_cell(image.convert("RGB"), CELL)


def fit_cell(image: Image.Image, cell: int) -> Image.Image:
    """``image`` scaled so its longer side is ``cell``: blocks kept when enlarging, area
    averaging when shrinking (also used by make_boxed_figure.py)."""
    scale = cell / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BOX)


def main() -> None:
    import make_realworld_digits as realworld

    from digitkit.data import load_digits
    from digitkit.intake import read_digit

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images" / "preprocessing.png"
    digits = load_digits("sample", split="test")
    rng = np.random.default_rng(4)
    canvas = np.array(realworld.canvas_drawing(digits.images[1], rng))
    canvas[canvas[..., 3] > 0, :3] = 255  # a white pen: invisible if composited onto white
    rows = [("photo", realworld.photograph(digits.images[0], rng)),
            ("white pen, transparent canvas", Image.fromarray(canvas, "RGBA")),
            ("binary 16x16, box-stretched", realworld.binary_scan(digits.images[2], 16, rng)),
            ("8x8, scaled up", realworld.upscaled_8x8(digits.images[3], rng))]
    sheet = Image.new("RGB", (2 * CELL + 30, len(rows) * (CELL + 24) + 24), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((8, 4), "as given", fill="black")
    draw.text((CELL + 24, 4), "model input (28x28)", fill="black")
    for i, (title, image) in enumerate(rows):
        top = 24 + i * (CELL + 24)
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        digit = read_digit(buffer.getvalue())
        sheet.paste(_as_shown(image), (8, top))
        shown = Image.fromarray((digit * 255).astype(np.uint8)).resize((CELL, CELL), Image.Resampling.NEAREST)
        sheet.paste(shown, (CELL + 24, top))
        draw.text((8, top + CELL + 4), title, fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
