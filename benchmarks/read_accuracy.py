"""Whole-number and per-digit accuracy of `digitkit read`, per condition, against `predict`.

    python benchmarks/read_accuracy.py --data MNIST_IDX_DIR [--model cnn-best@pretrained]
        [--count 1000] [--seeds 0,1] [--digits 4-8] [--conditions separated,touching,...]
        [--images DIR] [--reader auto|classic|sequence]

Makes ``--count`` numbers per condition and seed with scripts/make_numbers.py from MNIST
**test** digits (``--data``; default the bundled sample's 1,000), or reuses the sets under
``--images`` (``DIR/seed-N``), reads each picture as ``digitkit read`` does (the same intake
and reader, one model load), and prints per condition and seed:

- ``number``: the share of pictures whose text is exactly right (targets in docs/read.md);
- ``digit``: per-digit accuracy, 1 - (edit distance to the true text) / (its length), so a
  lost or extra digit counts as one error, not as every digit after it;
- ``predict``: the baseline, measured in the same run: `predict`'s single-digit accuracy on
  the very digits of those numbers, each drawn alone (cropped to its ink, scaled to 28 px
  of ink height, dark on white) and read through the intake, as ``digitkit predict`` does;
- ``all``: the share of numbers whose every digit `predict` reads right alone: what a
  reader with perfect cuts and the same classifier would score;
- ``found``: the share of pictures where the right number of digits was found;
- ``ms``: median milliseconds per picture (intake, segmentation, model, choice).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from digitkit.evaluation.metrics import edit_distance  # the one `evaluate --numbers` scores with
from digitkit.reading.sequence import READERS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def single_digit_right(predictor, images: np.ndarray, labels: np.ndarray, sources: list[int]) -> np.ndarray:
    """Whether `predict` reads each source digit right alone, drawn as make_numbers draws
    digits (dark on white)."""
    import make_numbers

    from digitkit.intake import digit_from

    digits = []
    for s in sources:
        ink = make_numbers.scaled(images[s], make_numbers.INK_HEIGHT)
        picture = np.pad(np.round(255 * (1 - ink)).astype(np.uint8), make_numbers.MARGIN, constant_values=255)
        digits.append(digit_from("digit", picture))
    probabilities = np.concatenate([predictor.predict_proba(np.stack(digits[i:i + 512]))
                                    for i in range(0, len(digits), 512)])
    return probabilities.argmax(axis=1) == labels[sources]


def score(rows: list[dict], folder: Path, predictor, reader: str = "auto") -> tuple[dict, float]:
    from digitkit.intake import read_picture
    from digitkit.reading.reader import read_many

    results, times = [], []
    for start in range(0, len(rows), 32):  # one model call per 32 pictures, as `digitkit read`
        chunk = rows[start:start + 32]
        began = time.perf_counter()
        items = [read_picture(folder / r["file"]) for r in chunk]
        results.extend(read_many(items, predictor, reader=reader))
        times.append((time.perf_counter() - began) / len(chunk))
    exact, digit_errors, digits, found = 0, 0, 0, 0
    for row, reading in zip(rows, results):
        text = getattr(reading, "text", "")
        exact += text == row["text"]
        digit_errors += min(len(row["text"]), edit_distance(text.replace(" ", "").replace("\n", ""), row["text"]))
        digits += len(row["text"])
        found += len(getattr(reading, "digits", [])) == len(row["text"])
    n = len(rows)
    return {"number": exact / n, "digit": 1 - digit_errors / digits, "found": found / n}, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn-best@pretrained")
    parser.add_argument("--data", help="MNIST IDX folder (test digits); default: the bundled sample")
    parser.add_argument("--count", type=int, default=1000, help="numbers per condition and seed")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--digits", default="4-8", help="digits per number")
    parser.add_argument("--conditions", help="comma-separated subset (default: all)")
    parser.add_argument("--images", type=Path, help="use (or fill) DIR/seed-N made by make_numbers.py")
    parser.add_argument("--reader", default="auto", choices=READERS,
                        help="which reader answers, as `digitkit read --reader`")
    args = parser.parse_args()

    import make_numbers
    from make_realworld_digits import load_source

    import digitkit

    conditions = tuple(args.conditions.split(",")) if args.conditions else make_numbers.CONDITIONS
    root = args.images or Path(tempfile.mkdtemp(prefix="digitkit-numbers-"))
    predictor = digitkit.load(args.model)
    images, labels = load_source(args.data)
    print(f"model {args.model} ({predictor.backend}), reader {args.reader}; {args.count} numbers of {args.digits} digits per condition "
          f"and seed; {root}")
    print(f"{'condition':<10} {'seed':>4} {'number':>8} {'digit':>8} {'predict':>8} {'all':>7} {'found':>7} {'ms':>6}")
    summary = defaultdict(list)
    for seed in (int(s) for s in args.seeds.split(",")):
        folder = root / f"seed-{seed}"
        if not (folder / "labels.csv").exists():
            make_numbers.make(folder, args.count, seed, args.data, make_numbers.parse_range(args.digits),
                              make_numbers.CONDITIONS)
        with open(folder / "labels.csv") as handle:
            by_condition = defaultdict(list)
            for row in csv.DictReader(handle):
                by_condition[row["condition"]].append(row)
        for condition in conditions:
            rows = by_condition[condition][:args.count]
            figures, seconds = score(rows, folder, predictor, args.reader)
            sources = [int(s) for row in rows for s in row["sources"].split()]
            right = single_digit_right(predictor, images, labels, sources)
            ends = np.cumsum([len(row["sources"].split()) for row in rows])[:-1]
            baseline = float(right.mean())
            whole = float(np.mean([part.all() for part in np.split(right, ends)]))
            summary[condition].append((figures["number"], figures["digit"], baseline, whole))
            print(f"{condition:<10} {seed:>4} {figures['number']:>8.2%} {figures['digit']:>8.2%} {baseline:>8.2%} "
                  f"{whole:>7.1%} {figures['found']:>7.1%} {seconds * 1000:>6.1f}", flush=True)
    print(f"\n{'condition':<10} {'number':>8} {'digit':>8} {'predict':>8} {'digit-predict':>14} {'all':>7}  (mean of seeds)")
    for condition, values in summary.items():
        number, digit, baseline, whole = (float(np.mean(v)) for v in zip(*values))
        print(f"{condition:<10} {number:>8.2%} {digit:>8.2%} {baseline:>8.2%} {(digit - baseline) * 100:>+13.2f}p "
              f"{whole:>7.2%}")


if __name__ == "__main__":
    main()
