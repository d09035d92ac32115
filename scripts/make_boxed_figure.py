"""Draw docs/images/boxed.png: tiny upscaled digits and box-stretched scans, before and after.

    python scripts/make_boxed_figure.py [OUT_PNG]

One row per input made by scripts/make_realworld_digits.py from the bundled sample's test
digits: box-stretched binary 16x16 and 32x32 scans, an 8x8 digit scaled up with nearest and
with bilinear sampling. Columns: the file as given; the 28x28 digit without the tiny-grid
and box-stretch steps (the grey path: squeezed by its stroke ratio); with them; the MNIST
digit the file was made from.
"""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
CELL = 112


@contextmanager
def _without_new_steps():
    """Preprocessing with the tiny-grid search and the binary-scan restoration switched off."""
    from digitkit.intake import preprocess

    saved = preprocess.native_grid, preprocess.boxed.restore
    preprocess.native_grid = lambda x: None
    preprocess.boxed.restore = lambda ink, outline=0.5: np.zeros((1, 1), np.float32)  # falls back
    try:
        yield
    finally:
        preprocess.native_grid, preprocess.boxed.restore = saved


def _cell(array_or_image) -> Image.Image:
    image = array_or_image
    if isinstance(image, np.ndarray):
        image = Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8))
    from make_preprocess_figure import fit_cell

    return fit_cell(image.convert("L"), CELL)


def main() -> None:
    import make_realworld_digits as realworld

    from digitkit.data import load_digits
    from digitkit.intake import read_digit

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images" / "boxed.png"
    digits = load_digits("sample", split="test")
    ones = np.flatnonzero(digits.labels == 1)
    rng = np.random.default_rng(7)
    small = lambda i: Image.fromarray(  # noqa: E731 - the 8x8 of make_realworld_digits, fixed sampling
        (255 - realworld.stretched_binary(digits.images[i], 32, rng).reshape(8, 4, 8, 4).sum(axis=(1, 3)) * 255 / 16)
        .round().astype(np.uint8))
    picks = [("binary 16x16", ones[0], lambda i: realworld.binary_scan(digits.images[i], 16, rng)),
             ("binary 32x32", 4, lambda i: realworld.binary_scan(digits.images[i], 32, rng)),
             ("8x8, nearest 12x", 7, lambda i: small(i).resize((96, 96), Image.Resampling.NEAREST)),
             ("8x8, bilinear 12x", ones[1], lambda i: small(i).resize((96, 96), Image.Resampling.BILINEAR))]
    titles = ["as given", "without", "with", "source"]
    sheet = Image.new("L", (4 * (CELL + 12) + 8, len(picks) * (CELL + 22) + 22), 255)
    draw = ImageDraw.Draw(sheet)
    for j, title in enumerate(titles):
        draw.text((8 + j * (CELL + 12), 4), title, fill=0)
    for i, (title, index, make) in enumerate(picks):
        image = make(int(index))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        with _without_new_steps():
            before = read_digit(buffer.getvalue())
        cells = [image, before, read_digit(buffer.getvalue()), digits.images[int(index)] / 255.0]
        top = 22 + i * (CELL + 22)
        for j, cell in enumerate(cells):
            sheet.paste(_cell(cell), (8 + j * (CELL + 12), top))
        draw.text((8, top + CELL + 3), title, fill=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
