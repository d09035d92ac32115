"""Start-up time of `digitkit list-models` against `import tensorflow`, in one run.

Usage: python benchmarks/cli_startup.py [--repeat 7]

Prints the median wall time of each (fresh processes) and their ratio. Target on a 2-core
machine: list-models under 0.5 s and at least 5x faster than importing TensorFlow.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    cli = median_wall([sys.executable, "-m", "digitkit", "list-models"], args.repeat)
    tf = median_wall([sys.executable, "-c", "import tensorflow"], args.repeat)
    print(f"digitkit list-models  median {cli:.3f} s  (n={args.repeat})")
    print(f"import tensorflow     median {tf:.3f} s  (n={args.repeat})")
    print(f"ratio                 {tf / cli:.1f}x faster  (target >= 5x, list-models < 0.5 s)")


if __name__ == "__main__":
    main()
