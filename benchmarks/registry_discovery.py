"""Cost of plugin isolation: registry discovery against a bare entry-point load, same run.

Baseline: load every enabled ``digitkit.models`` entry point directly (what an unprotected
loader does). Measured: ``registry.discover()`` (a worker thread per entry point with a time
limit, captured output, ``BaseException`` caught, quick spec checks, checked builders).
Modules are imported once before timing, so the figures are the isolation overhead itself;
the first, cold import is dominated by the plugins' own import time either way.

Run: ``python benchmarks/registry_discovery.py [repeats]``; prints medians and the ratio.
"""

from __future__ import annotations

import statistics
import sys
import time


def bare() -> None:
    from digitkit.plugins import registry

    for entry_point, _provider in registry.enabled_entry_points():
        entry_point.load()


def isolated() -> None:
    from digitkit.plugins import registry

    registry.discover()


def main(repeats: int = 30) -> None:
    bare(), isolated()  # import every module once
    timings: dict[str, list[float]] = {"bare": [], "isolated": []}
    for _ in range(repeats):  # interleaved, so machine load hits both alike
        for name, func in (("bare", bare), ("isolated", isolated)):
            started = time.perf_counter()
            func()
            timings[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    from digitkit.plugins import registry

    count = sum(1 for _ in registry.enabled_entry_points())
    print(f"entry points: {count}, repeats: {repeats}")
    for name, value in medians.items():
        print(f"{name:>9}: {value * 1000:.2f} ms (median)")
    print(f"ratio isolated/bare: {medians['isolated'] / medians['bare']:.1f}x, "
          f"overhead {1000 * (medians['isolated'] - medians['bare']) / max(count, 1):.2f} ms per entry point")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
