"""Speed of `digitkit read` against `digitkit predict` measured in the same run, interleaved.

    python benchmarks/read_speed.py [--data MNIST_IDX_DIR] [--numbers 1000] [--repeat 5]
                                    [--model cnn-best@pretrained] [--reader auto|classic|sequence]

- cold, one picture: ``digitkit read number.png`` (six digits) in a fresh process against
  ``digitkit predict digit.png`` (one of its digits alone). Target: ratio <= 1.5.
- a folder: ``digitkit read FOLDER --csv`` on ``--numbers`` six-digit numbers (separated,
  from scripts/make_numbers.py) against ``digitkit predict`` on a folder of as many single
  digits; numbers/s counts the whole command, start-up included. Target: >= 150 numbers/s.

Every figure is a median of ``--repeat`` runs, the contenders taking turns so that a busy
machine slows them alike; CPU seconds (user + system, children included) are shown beside
the wall time, since on a shared machine the wall time also counts waiting for a core.
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from digitkit.reading.sequence import READERS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

TIMED = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rc": proc.returncode,
                  "err": proc.stderr.decode()[-300:]}))
"""


def timed(argv: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", TIMED, *argv], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    if result["rc"] not in (0, 7):
        raise SystemExit(f"{' '.join(argv)} failed ({result['rc']}): {result['err']}")
    return result


def compare(label: str, a: list[str], b: list[str], repeat: int, unit: float = 1.0, per: str = "") -> None:
    runs_a, runs_b = [], []
    for _ in range(repeat):
        runs_a.append(timed(a))
        runs_b.append(timed(b))
    wall_a, wall_b = (statistics.median(r["wall"] for r in runs) for runs in (runs_a, runs_b))
    cpu_a, cpu_b = (statistics.median(r["cpu"] for r in runs) for runs in (runs_a, runs_b))
    print(f"{label}")
    for name, wall, cpu in (("read", wall_a, cpu_a), ("predict", wall_b, cpu_b)):
        rate = f"  {unit / wall:8.0f} {per}/s" if per else ""
        print(f"  {name:<8} wall {wall:7.3f} s  cpu {cpu:7.3f} s{rate}")
    print(f"  ratio read/predict: wall {wall_a / wall_b:.2f}x, cpu {cpu_a / cpu_b:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="MNIST IDX folder (test digits); default: the bundled sample")
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", default="cnn-best@pretrained")
    parser.add_argument("--reader", default="auto", choices=READERS,
                        help="read's --reader (auto: with cnn-best, the sequence reader where digits run together)")
    args = parser.parse_args()

    import make_numbers
    from make_realworld_digits import load_source

    compileall.compile_dir(str(ROOT / "digitkit"), quiet=1)  # as an installed package starts
    work = Path(tempfile.mkdtemp(prefix="digitkit-read-speed-"))
    rows = make_numbers.make(work / "numbers", args.numbers, 3, args.data, (6, 6), ("separated",))
    images, _ = load_source(args.data)
    singles = work / "digits"
    singles.mkdir()
    from PIL import Image

    for i, row in enumerate(rows):
        source = int(row["sources"].split()[0])
        ink = make_numbers.scaled(images[source], make_numbers.INK_HEIGHT)
        picture = np.pad(np.round(255 * (1 - ink)).astype(np.uint8), make_numbers.MARGIN, constant_values=255)
        Image.fromarray(picture).save(singles / f"{i:05d}.png")
    digitkit = [sys.executable, "-m", "digitkit"]
    one_number = str(work / "numbers" / rows[0]["file"])
    one_digit = str(singles / "00000.png")
    print(f"model {args.model}, reader {args.reader}; medians of {args.repeat} runs, taking turns; {work}")
    compare("cold, one picture (read: six digits; predict: one digit)",
            [*digitkit, "read", one_number, "-m", args.model, "--reader", args.reader],
            [*digitkit, "predict", one_digit, "-m", args.model], args.repeat)
    compare(f"a folder of {args.numbers} pictures (read: six-digit numbers; predict: single digits), --csv",
            [*digitkit, "read", str(work / "numbers" / "separated"), "-m", args.model, "--csv", "--reader",
             args.reader],
            [*digitkit, "predict", str(singles), "-m", args.model, "--csv"], max(1, args.repeat // 2),
            unit=args.numbers, per="pictures")


if __name__ == "__main__":
    main()
