"""Build the MNIST sample shipped in digitkit/data/sample/ from real MNIST IDX files.

Usage: python scripts/make_sample.py ../shared/data/mnist

Takes the first 6,000 training and first 1,000 test digits, in the official order, and
writes them as gzipped IDX files (the same format as the source, read by digitkit.data.idx).
"""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from digitkit.data.idx import read_idx  # noqa: E402

TRAIN, TEST = 6000, 1000
OUT = Path(__file__).resolve().parents[1] / "digitkit" / "data" / "sample"


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    # mtime=0 keeps the bytes reproducible across rebuilds
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes(), compresslevel=9, mtime=0))


def main(source: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pairs = {
        "train": ("train-24k-images-idx3-ubyte.gz", "train-24k-labels-idx1-ubyte.gz", TRAIN),
        "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", TEST),
    }
    for split, (images, labels, count) in pairs.items():
        write_idx(OUT / f"{split}-images-idx3-ubyte.gz", read_idx(source / images)[:count])
        write_idx(OUT / f"{split}-labels-idx1-ubyte.gz", read_idx(source / labels)[:count])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mnist"))
