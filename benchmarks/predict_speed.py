"""`digitkit predict` through LiteRT vs Keras: wall time and peak memory, side by side.

    python benchmarks/predict_speed.py [--home DIR] [--batch 10000] [--repeat 5]

Uses the latest completed ``cnn`` run of ``--home`` (or trains a small one into a temporary
home: 1 epoch on the bundled sample, plus its model.tflite). Each measurement runs
``digitkit predict`` in a fresh process, through a small wrapper that reports its child's
wall time, CPU time (user + system: steadier than wall time on a busy machine) and peak RSS
(``resource.getrusage(RUSAGE_CHILDREN)``), so the numbers are what a user sees at the shell:
start-up and imports included.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
                  "code": code}))
"""


def measure(args: list[str], env: dict[str, str]) -> dict:
    digitkit = [sys.executable, "-m", "digitkit", "predict", *args]
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *digitkit], capture_output=True, text=True, env=env)
    result = json.loads(proc.stdout)
    if result["code"] not in (0, 7):
        raise SystemExit(f"digitkit predict failed ({result['code']}): {proc.stderr[-500:]}")
    return result


def ensure_run(home: Path) -> None:
    os.environ["DIGITKIT_HOME"] = str(home)
    from digitkit import runs

    if runs.latest_run_of("cnn") is not None:
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from predict_fixtures import train_run

    print("training a small cnn run (1 epoch on 600 sample digits)…", file=sys.stderr)
    train_run("cnn", home / "runs", epochs=1)


def write_images(folder: Path, count: int) -> Path:
    from PIL import Image

    from digitkit.data import load_digits

    digits = load_digits("sample", split="test")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(255 - digits.images[i % len(digits)]).save(folder / f"{i:05d}.png")
    return folder


def row(label: str, fast: dict, slow: dict) -> str:
    def cell(r: dict) -> str:
        return f"{r['wall']:>7.2f} s {r['cpu']:>6.2f} s {r['rss_mb']:>5.0f} MB"

    return f"{label:<24} {cell(fast)}   {cell(slow)}   {slow['wall'] / fast['wall']:>5.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="digitkit home with a completed cnn run")
    parser.add_argument("--batch", type=int, default=10_000, help="images in the batch test (0 to skip)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the one-image test (median shown)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="digitkit-speed-"))
    home = args.home or scratch / "home"
    ensure_run(home)
    env = {**os.environ, "DIGITKIT_HOME": str(home)}
    one = write_images(scratch / "one", 1) / "00000.png"

    results = {}
    for backend in ("litert", "keras"):
        measure([str(one), "--backend", backend], env)  # warm the file cache
        runs = [measure([str(one), "--backend", backend], env) for _ in range(args.repeat)]
        results[backend] = {"wall": statistics.median(r["wall"] for r in runs),
                            "cpu": statistics.median(r["cpu"] for r in runs),
                            "rss_mb": max(r["rss_mb"] for r in runs)}
    print(f"{'':<24} {'LiteRT: wall, CPU, peak RSS':>28}   {'Keras: wall, CPU, peak RSS':>28}   wall ratio")
    print(row("predict one.png", results["litert"], results["keras"]))
    if args.batch:
        folder = write_images(scratch / "batch", args.batch)
        batch = {b: measure([str(folder), "--backend", b, "--json"], env) for b in ("litert", "keras")}
        print(row(f"predict {args.batch:,} images", batch["litert"], batch["keras"]))


if __name__ == "__main__":
    main()
