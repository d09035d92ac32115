"""Teach cnn-best a new writer: label 10 and 30 pictures per digit, fine-tune, score the rest.

    python benchmarks/personalise.py --data /path/to/mnist-idx [--kind upscale8] [--per-digit 10 30]

One "new writer" is one kind of ``scripts/make_realworld_digits.py`` (``--count`` pictures
made from the MNIST test digits of ``--data``). For each ``--per-digit`` N, the first N
pictures of each digit are labelled the way docs/personalise.md does it: ``label_pictures``
with ``--accept-above`` taking the confident answers and a reviewer correcting the others
(here the reviewer types the true digit). Then, timed as separate processes (start-up
included), ``digitkit fit MODEL --init-from MODEL@pretrained --replay 0.5`` on that folder
and, for comparison, a from-scratch ``digitkit fit MODEL`` on the same pictures. Printed:
top-1 on the writer's remaining pictures before and after, MNIST test accuracy before and
after (from the run's manifest), the fit times, and each target's verdict:

- after >= before + (1 - before) / 2 with 10 per digit; >= 99 % with 30 per digit;
- MNIST test drops by at most 0.3 points;
- the fine-tune on 300 pictures takes <= 60 s.

The MNIST test digits the writer's pictures were made from are among the 10,000 scored as
"MNIST test": their 28x28 originals, not the writer's renderings.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_writer(out: Path, kind: str, count: int, data: str) -> list[tuple[Path, int]]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_realworld_digits import make

    rows = make(out, count, 0, data, (kind,))
    return [(out / name, label) for name, label in rows]


def split(pictures: list[tuple[Path, int]], per_digit: int) -> tuple[list[tuple[Path, int]], list[tuple[Path, int]]]:
    taken: dict[int, int] = defaultdict(int)
    chosen, rest = [], []
    for path, label in pictures:
        if taken[label] < per_digit:
            taken[label] += 1
            chosen.append((path, label))
        else:
            rest.append((path, label))
    return chosen, rest


def label(chosen: list[tuple[Path, int]], out: Path, model: str, accept_above: float) -> dict[str, int]:
    """``label --accept-above`` and a reviewer who types the true digit of every other picture."""
    from digitkit.labelling import label_pictures

    truth = {os.path.abspath(p): y for p, y in chosen}

    def reviewer(review) -> None:
        picture = review.advance()
        while picture is not None:
            picture = review.label(truth[picture.source])

    result = label_pictures([str(p) for p, _ in chosen], out, model=model, accept_above=accept_above,
                            reviewer=reviewer)
    rows = list(csv.DictReader(open(out / "labels.csv")))
    wrong_auto = sum(r["how"] == "auto" and int(r["label"]) != truth[r["source"]] for r in rows)
    return {"auto": result.tally.auto, "typed": result.tally.typed, "auto_wrong": wrong_auto,
            "corrected": sum(r["how"] == "typed" and r["label"] != r["answer"] for r in rows)}


def top1(model: str, pictures: list[tuple[Path, int]]) -> float:
    from digitkit.inference.batch import predict

    result = predict([str(p) for p, _ in pictures], model, keep_images=False)
    return sum(p.best == y for p, (_, y) in zip(result.predictions, pictures)) / len(pictures)


def timed_fit(args: list[str], env: dict[str, str]) -> tuple[float, dict]:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "digitkit", "fit", *args, "--json", "--quiet"], env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"fit failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="MNIST IDX folder (test digits make the writer)")
    parser.add_argument("--kind", default="upscale8")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--model", default="cnn-best")
    parser.add_argument("--per-digit", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--accept-above", type=float, default=0.99)
    parser.add_argument("--replay", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scratch", action="store_true", help="also time a from-scratch fit (comparison)")
    parser.add_argument("--fit-arg", action="append", default=[], metavar="ARG",
                        help="an extra argument for the fine-tune's `digitkit fit` (repeat; e.g. --fit-arg=--epochs=8)")
    args = parser.parse_args()
    parent = f"{args.model}@pretrained"
    work = Path(tempfile.mkdtemp(prefix="digitkit-personalise-"))
    env = {**os.environ, "DIGITKIT_HOME": os.environ.get("DIGITKIT_HOME", str(work / "home"))}
    os.environ.update(DIGITKIT_HOME=env["DIGITKIT_HOME"])
    writer = make_writer(work / "writer", args.kind, args.count, args.data)
    print(f"writer: {len(writer)} {args.kind} pictures; model {parent}; replay {args.replay}; seed {args.seed}"
          + (f"; fit {' '.join(args.fit_arg)}" if args.fit_arg else ""))
    short = []
    for n in args.per_digit:
        chosen, rest = split(writer, n)
        labelled = work / f"mine-{n}"
        how = label(chosen, labelled, parent, args.accept_above)
        before = top1(parent, rest)
        seconds, result = timed_fit([args.model, "--init-from", parent, "--dataset", str(labelled), "--replay",
                                     str(args.replay), "--replay-data", args.data, "--seed", str(args.seed),
                                     "--out", str(work / "runs"), *args.fit_arg], env)
        after = top1(result["run_path"], rest)
        manifest = json.loads((Path(result["run_path"]) / "manifest.json").read_text())
        mnist = manifest["finetune"]["mnist_test"]
        goal = 0.99 if n >= 30 else before + (1 - before) / 2
        drop = (mnist["before"] - mnist["after"]) * 100
        print(f"{n:>3} per digit ({len(chosen)} labelled: {how['auto']} accepted above {args.accept_above}, "
              f"{how['auto_wrong']} of them wrong; {how['typed']} typed, {how['corrected']} corrections)")
        print(f"    remaining {len(rest)} pictures: {before:.2%} -> {after:.2%} (target >= {goal:.2%}) "
              f"{'ok' if after >= goal else 'MISSED'}")
        print(f"    MNIST test: {mnist['before']:.2%} -> {mnist['after']:.2%} (drop {drop:.2f} points, "
              f"target <= 0.30) {'ok' if drop <= 0.3 else 'MISSED'}")
        print(f"    fine-tune: {seconds:.1f} s wall, {result['epochs_completed']} epochs (best "
              f"{result['best_epoch']})" + (f" (target <= 60 s) {'ok' if seconds <= 60 else 'MISSED'}"
                                            if len(chosen) >= 300 else ""))
        short += [n] if after < goal or drop > 0.3 or (len(chosen) >= 300 and seconds > 60) else []
        if args.scratch:
            scratch_s, scratch = timed_fit([args.model, "--dataset", str(labelled), "--seed", str(args.seed),
                                            "--out", str(work / "runs")], env)
            print(f"    from scratch on the same pictures: {scratch_s:.1f} s wall, "
                  f"{top1(scratch['run_path'], rest):.2%} on the remaining pictures; "
                  f"time ratio fine-tune/scratch {seconds / scratch_s:.2f}")
    sys.exit(1 if short else 0)


if __name__ == "__main__":
    main()
