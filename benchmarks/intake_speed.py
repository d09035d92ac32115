"""Time per small image for reading + decoding + preprocessing (``digitkit.intake.read_digit``).

    python benchmarks/intake_speed.py [--count 500] [--repeats 5]

Writes ``--count`` small PNGs (28-300 px: MNIST digits as they are, and dark-on-light
copies scaled 2-10x) from the bundled sample, then times, interleaved and repeated
(medians):

- baseline: open with Pillow, ``convert("L")``, resize to 28x28 (no preprocessing at all);
- digitkit: :func:`digitkit.intake.read_digit`, the intake ``predict`` uses.

Prints CPU milliseconds per image and the ratio to the baseline measured in the same run.
Run it with ``PYTHONPATH=<older checkout>`` to compare an older intake on the same files.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def make_files(folder: Path, count: int) -> list[Path]:
    from PIL import Image

    from digitkit.data import load_digits

    digits = load_digits("sample", split="test").images[:count]
    rng = np.random.default_rng(0)
    paths = []
    for i, digit in enumerate(digits):
        image = Image.fromarray(digit)
        if i % 2:  # a scan: dark ink on light paper, scaled up to 56-280 px
            side = int(28 * rng.uniform(2, 10))
            image = Image.fromarray(255 - digit).resize((side, side), Image.Resampling.BILINEAR)
        path = folder / f"{i:05d}.png"
        image.save(path)
        paths.append(path)
    return paths


def baseline(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L").resize((28, 28)), np.float32) / 255.0


def per_image_ms(loader, paths: list[Path]) -> float:
    # CPU time of this process: on a shared machine wall time mostly measures the neighbours.
    started = time.process_time()
    for path in paths:
        loader(path)
    return (time.process_time() - started) / len(paths) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import digitkit
    from digitkit.intake import read_digit as load_digit

    paths = make_files(Path(tempfile.mkdtemp(prefix="digitkit-intake-speed-")), args.count)
    load_digit(paths[0])  # imports and first-call set-up are not per-image costs
    ours, plain = [], []
    for _ in range(args.repeats):
        plain.append(per_image_ms(baseline, paths))
        ours.append(per_image_ms(load_digit, paths))
    ours_ms, plain_ms = statistics.median(ours), statistics.median(plain)
    print(f"digitkit from {Path(digitkit.__file__).parent}; {len(paths)} PNGs of 28-280 px, "
          f"medians of {args.repeats} interleaved runs")
    print(f"baseline (Pillow open, convert L, resize): {plain_ms:.3f} ms/image")
    print(f"digitkit load_digit:                       {ours_ms:.3f} ms/image  ({ours_ms / plain_ms:.1f}x baseline)")


if __name__ == "__main__":
    main()
