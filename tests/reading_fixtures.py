"""Pictures of numbers for the reading tests, made from the bundled sample's test digits with
scripts/make_numbers.py (so the tests and the benchmark draw numbers the same way)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_numbers  # noqa: E402

MODEL = "cnn-best@pretrained"  # shipped weights through LiteRT: no training, no TensorFlow


def sample_digits():
    from digitkit.data import load_digits

    digits = load_digits("sample", split="test")
    return digits.images, digits.labels


def first_of(label: int, skip: int = 0) -> np.ndarray:
    """A clean sample test digit of ``label`` (the ``skip``-th one)."""
    images, labels = sample_digits()
    return images[np.flatnonzero(labels == label)[skip]]


def number_picture(path: Path, condition: str, count: int, seed: int) -> tuple[str, list[tuple[int, int, int, int]]]:
    """One picture of ``count`` sample digits in ``condition``; its true text and boxes."""
    images, labels = sample_digits()
    rng = np.random.default_rng([seed, make_numbers.CONDITIONS.index(condition)])
    sources = rng.choice(len(images), count, replace=False)
    image, boxes, suffix = make_numbers.make_one(condition, [images[s] for s in sources], rng)
    target = path.with_suffix(suffix)
    image.save(target)
    return "".join(str(int(labels[s])) for s in sources), boxes, target


def compose_text(path: Path, text: str, *, gap: int = 6, mark_gap: int = 10) -> Path:
    """Dark digits on white for ``text``: digits from the sample, ``' '`` a wide gap, ``'.'`` a
    dot on the baseline, ``'-'`` a dash at mid-height, ``'\\n'`` a new line."""
    lines = []
    for line in text.split("\n"):
        inks, gaps, marks, x = [], [], [], 0
        for char in line:
            if char.isdigit():
                inks.append(make_numbers.scaled(first_of(int(char)), make_numbers.INK_HEIGHT))
            elif char == " ":
                gaps.append((len(inks), 30))
            else:
                gaps.append((len(inks), mark_gap * 2))
                marks.append((len(inks), char))
        spacing = [gap] * max(0, len(inks) - 1)
        for after, extra in gaps:
            spacing[after - 1] += extra
        canvas, boxes = make_numbers.compose(inks, spacing, [0] * len(inks))
        picture = Image.fromarray((canvas * 255).astype(np.uint8))
        draw = ImageDraw.Draw(picture)
        for after, char in marks:
            left, right = boxes[after - 1][2], boxes[after][0]
            centre, bottom = (left + right) // 2, boxes[after][3]
            if char == ".":
                draw.ellipse([centre - 2, bottom - 4, centre + 2, bottom], fill=255)
            elif char == "-":
                draw.rectangle([centre - 5, bottom - 16, centre + 5, bottom - 13], fill=255)
        lines.append(np.asarray(picture))
    width = max(line.shape[1] for line in lines)
    stacked = np.vstack([np.pad(line, ((0, 0), (0, width - line.shape[1]))) for line in lines])
    Image.fromarray(255 - stacked).save(path)
    return path


def iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0
