"""Whole-number accuracy of the experimental CTC line reader beside the classic `read`.

    python benchmarks/sequence_read_accuracy.py --images DIR/seed-0 --model sequence_reader.keras
        [--count 500] [--conditions touching,separated,...] [--threads 1] [--csv OUT.csv]

``DIR/seed-N`` is a set made by scripts/make_numbers.py (or benchmarks/read_accuracy.py
``--images``) from MNIST **test** digits. Each picture is read through the intake
(``read_picture``) by both readers: the classic reader (cnn-best@pretrained, as
``digitkit read``) and the sequence model (digitkit.reading.sequence.line_image, greedy
CTC decoding). Per condition it prints the share of numbers read exactly (spaces
ignored) by each, by an oracle (either right), and by two ways of combining them:

- ``dense``: the sequence model for pictures whose (first) line the classic reader's
  layout judges dense (``layout.dense``: pieces closer than 0.05 h), the classic reader
  elsewhere;
- ``conf``: when they disagree, the one with the higher confidence (the classic reading's
  product of digit probabilities; the sequence model's best-path probability).

and the median milliseconds per picture of the sequence model (line image + model, one
picture per call, on ``--threads`` threads).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True, help="a seed-N folder with labels.csv")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--conditions", default="touching,separated,broken,slanted,uneven,photo")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--csv", type=Path, help="write every picture's readings here")
    parser.add_argument("--classic-cache", type=Path, help="the classic readings (JSON): read if there, else written")
    parser.add_argument("--classic-only", action="store_true", help="fill --classic-cache and stop")
    parser.add_argument("--timed", type=int, default=50, help="pictures per condition timed one by one")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    import digitkit
    from digitkit.intake import read_picture
    from digitkit.reading.layout import dense
    from digitkit.reading.number import plan
    from digitkit.reading.reader import read_many
    from digitkit.reading.sequence import greedy, line_image
    from digitkit.zoo.sequence_reader import ctc_loss

    by_condition = defaultdict(list)
    with open(args.images / "labels.csv") as handle:
        for row in csv.DictReader(handle):
            by_condition[row["condition"]].append(row)
    cache = json.loads(args.classic_cache.read_text()) if args.classic_cache and args.classic_cache.exists() else {}
    missing = [r for c in args.conditions.split(",") for r in by_condition[c][:args.count] if r["file"] not in cache]
    if missing:
        predictor = digitkit.load("cnn-best@pretrained")
        for start in range(0, len(missing), 32):  # one model call per 32 pictures, as `digitkit read`
            chunk = missing[start:start + 32]
            items = [read_picture(args.images / r["file"]) for r in chunk]
            for row, (name, grey), reading in zip(chunk, items, read_many(items, predictor)):
                try:
                    p = plan(name, grey)
                    is_dense = bool(p.lines) and dense(p.lines[0])
                except Exception:  # noqa: BLE001 (a picture the reader refuses)
                    is_dense = False
                cache[row["file"]] = {"text": getattr(reading, "text", "").replace(" ", "").replace("\n", ""),
                                      "confidence": float(getattr(reading, "confidence", 0.0)), "dense": is_dense}
        if args.classic_cache:
            args.classic_cache.write_text(json.dumps(cache))
    if args.classic_only:
        return
    model = keras.models.load_model(args.model, custom_objects={"ctc_loss": ctc_loss}, compile=False)
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    out_rows = []
    print(f"{args.images}, {args.model} ({args.model.stat().st_size / 1e6:.2f} MB), {args.count} per condition")
    print(f"{'condition':<10} {'n':>5} {'classic':>8} {'seq':>8} {'oracle':>8} {'dense':>8} {'conf':>8} "
          f"{'dense%':>7} {'seq ms':>7}")
    for condition in args.conditions.split(","):
        rows = by_condition[condition][:args.count]
        items = [read_picture(args.images / r["file"]) for r in rows]
        classic = [cache[r["file"]] for r in rows]
        lines = np.stack([line_image(grey) for _, grey in items])
        texts, confidence = greedy(model.predict(lines[..., None], batch_size=128, verbose=0))
        times = []
        for _, grey in items[:args.timed]:
            began = time.perf_counter()
            greedy(np.asarray(call(line_image(grey)[None, ..., None])))
            times.append(time.perf_counter() - began)
        counts = defaultdict(int)
        for row, (name, grey), reading, text, conf in zip(rows, items, classic, texts, confidence):
            truth = row["text"]
            c_text, c_conf, is_dense = reading["text"], reading["confidence"], reading["dense"]
            c_ok, s_ok = c_text == truth, text == truth
            counts["classic"] += c_ok
            counts["seq"] += s_ok
            counts["oracle"] += c_ok or s_ok
            counts["dense"] += s_ok if is_dense else c_ok
            counts["conf"] += c_ok if c_text == text else (s_ok if conf > c_conf else c_ok)
            counts["dense%"] += is_dense
            out_rows.append({"file": row["file"], "condition": condition, "truth": truth, "classic": c_text,
                             "classic_conf": f"{c_conf:.4f}", "seq": text, "seq_conf": f"{conf:.4f}",
                             "dense": int(is_dense)})
        n = len(rows)
        print(f"{condition:<10} {n:>5} " + " ".join(f"{counts[k] / n:>8.2%}" for k in
                                                  ("classic", "seq", "oracle", "dense", "conf"))
              + f" {counts['dense%'] / n:>7.1%} {statistics.median(times) * 1000:>7.1f}", flush=True)
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(out_rows[0]))
            writer.writeheader()
            writer.writerows(out_rows)


if __name__ == "__main__":
    main()
