"""`digitkit label` keeps up with typing: key press to the next picture drawn, on 10,000 pictures.

    python benchmarks/label_latency.py [--count 10000] [--keys 200] [--model cnn-best@pretrained]

Writes ``--count`` picture files (PNG copies of bundled test digits, dark on light, as a
scanner gives them), starts a labelling session on them as ``digitkit label`` does (scoring
in the background thread), and types ``--keys`` keys at a brisk 5 per second (a digit,
Enter, a skip, sometimes Backspace), each followed by the whole screen drawn at 80x24 into
a rich console. Printed: the median and 95th percentile of the key-to-screen time, as the
session's own ``key_ms`` records it, and how far scoring had got when typing began. The
baseline is a redraw with no key handled (the screen alone), measured in the same run,
interleaved. Target: the next picture on screen within 50 ms (p95).
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path


def write_pictures(folder: Path, count: int) -> None:
    from PIL import Image

    from digitkit.data import load_digits

    digits = load_digits("sample", "test")
    folder.mkdir(parents=True, exist_ok=True)
    encoded = []
    for i in range(50):
        buffer = io.BytesIO()
        Image.fromarray(255 - digits.images[i]).resize((56, 56)).save(buffer, "PNG")
        encoded.append(buffer.getvalue())
    for i in range(count):
        (folder / f"p{i:05d}.png").write_bytes(encoded[i % len(encoded)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--model", default="cnn-best@pretrained")
    args = parser.parse_args()
    from rich.console import Console

    from digitkit.labelling import label_pictures
    from digitkit.render import labelling

    work = Path(tempfile.mkdtemp(prefix="digitkit-label-latency-"))
    write_pictures(work / "scans", args.count)
    console = Console(file=io.StringIO(), width=80, height=24, force_terminal=True, color_system="truecolor")
    keys = [b"3", b"\r", b"s", b"\r", b"7", b"\x7f", b"\r", b"1"]
    redraw_ms: list[float] = []
    during: list[float] = []  # keys typed while pictures were still being scored
    after: list[float] = []
    started = time.perf_counter()

    def typist(review) -> None:
        review.advance()
        print(f"first picture on screen after {time.perf_counter() - started:.2f} s "
              f"({review.ahead.scored} of {args.count} scored)")
        feed = iter(keys * (args.keys // len(keys) + 1))
        for _ in range(args.keys):
            time.sleep(0.2)  # 5 keys a second
            began = time.perf_counter()  # baseline: the screen alone
            console.print(labelling.screen(review, console))
            redraw_ms.append((time.perf_counter() - began) * 1000)
            key = next(feed)
            pressed = time.perf_counter()
            {b"\r": review.accept, b"s": review.skip, b"\x7f": review.back}.get(
                key, lambda: review.label(labelling.DIGIT_KEYS.get(key, 0)))()
            console.print(labelling.screen(review, console))
            review.tally.key_ms.append((time.perf_counter() - pressed) * 1000)
            (during if review.ahead.scored + review.ahead.failed < args.count else after).append(
                review.tally.key_ms[-1])
            review.persist()  # as the reviewer does: after the screen is drawn
            console.file.seek(0)
            console.file.truncate()
        print(f"typing ended with {review.ahead.scored} of {args.count} scored")

    result = label_pictures([str(work / "scans")], work / "mine", model=args.model, reviewer=typist)
    key_ms = sorted(result.tally.key_ms)
    p95 = key_ms[int(len(key_ms) * 0.95) - 1]
    print(f"key to next picture drawn: median {statistics.median(key_ms):.1f} ms, p95 {p95:.1f} ms, "
          f"max {key_ms[-1]:.1f} ms over {len(key_ms)} keys (target p95 <= 50 ms) "
          f"{'ok' if p95 <= 50 else 'MISSED'}")
    for name, values in (("while scoring", during), ("after scoring", after)):
        if values:
            values.sort()
            print(f"  {name}: {len(values)} keys, median {statistics.median(values):.1f} ms, "
                  f"p95 {values[max(0, int(len(values) * 0.95) - 1)]:.1f} ms")
    print(f"baseline, the screen alone: median {statistics.median(redraw_ms):.1f} ms")


if __name__ == "__main__":
    main()
