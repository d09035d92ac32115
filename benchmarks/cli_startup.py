"""Start-up time of light commands against `digitkit --version` and `import tensorflow`, in one run.

Usage: python benchmarks/cli_startup.py [--repeat 7]

Fresh processes, interleaved (one of each per round, so a busy machine slows all alike);
prints each median and its ratio to `digitkit --version`. Targets on a 2-core machine:
list-models <= 1.5x `--version` (docs/index.md), show-model of a model with shipped weights
under 1 s (its layers read from the file, no TensorFlow), and import tensorflow far slower.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "digitkit --version": [sys.executable, "-m", "digitkit", "--version"],
    "digitkit list-models": [sys.executable, "-m", "digitkit", "list-models"],
    "digitkit show-model cnn": [sys.executable, "-m", "digitkit", "show-model", "cnn"],
    "import tensorflow": [sys.executable, "-c", "import tensorflow"],
}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, cmd in COMMANDS.items():
            times[name].append(wall(cmd))
    base = statistics.median(times["digitkit --version"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:24s} median {median:.3f} s  {median / base:5.2f}x --version  (n={args.repeat})")
    print("targets: list-models <= 1.5x --version; show-model cnn < 1 s")


if __name__ == "__main__":
    main()
