"""`digitkit serve` under load: throughput, latency and memory, against 127.0.0.1 only.

    python benchmarks/serve_load.py [--home DIR] [--model cnn] [--requests 20000]
        [--concurrency 8] [--max-seconds 300] [--side 28] [--no-preprocess] [--flood 300]

Starts ``digitkit serve --port 0`` in a subprocess (the latest completed ``cnn`` run of
``--home``, or a small one trained into a temporary home), then, with ``--concurrency``
keep-alive clients on raw asyncio sockets (a heavyweight HTTP client would measure itself):

1. ``POST /api/predict`` with one PNG of a held-out test digit (``--side`` pixels), up to
   ``--requests`` requests or ``--max-seconds``, sampling the server's RSS every 1,000, in
   blocks of 2,000, each after a block of the baseline, ``GET /healthz`` (the server's floor:
   HTTP, routing, JSON, no image), so both see the same load on a shared machine;
2. a flood: ``--flood`` connections at once, each one prediction: every answer must be
   200 or 503, and memory must not grow with the flood.

Prints predictions/s (median over blocks), p50/p99 latency, the median ratio to the baseline, and RSS over the run.
Targets (issue 17): >= 300 predictions/s at 8 clients, p99 <= 100 ms, flat RSS over 20,000.
Every bound is explicit: request count, time, and connections; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"
BLOCK = 2000  # predictions per block, each after a baseline block of 500 /healthz requests


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def digit_png(side: int) -> bytes:
    """A held-out test digit (dark on white) as a PNG of ``side`` pixels."""
    import numpy as np
    from PIL import Image

    from digitkit.data import load_digits

    digits = load_digits("sample", split="test")
    image = Image.fromarray(255 - np.pad(digits.images[0], 4)).resize((side, side), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def ensure_run(home: Path) -> None:
    os.environ["DIGITKIT_HOME"] = str(home)
    from digitkit import runs

    if runs.latest_run_of("cnn") is not None:
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from predict_fixtures import train_run

    print("training a small cnn run (1 epoch on 600 sample digits)…", file=sys.stderr)
    train_run("cnn", home / "runs", epochs=1)


def start_server(model: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "digitkit", "serve", "--model", model, "--port", "0",
                             "--host", HOST], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.kill()
        raise SystemExit(f"digitkit serve did not start (exit {proc.wait()})")
    return proc, int(line.rstrip("/").rsplit(":", 1)[1])


def request_bytes(method: str, path: str, body: bytes = b"", content_type: str = "image/png") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n"
    if method == "POST":
        head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode("ascii") + body


async def exchange(reader, writer, request: bytes) -> int:
    """Send one request on a keep-alive connection; return the status after reading the body."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = next((int(v) for k, _, v in (line.partition(b":") for line in lines[1:])
                   if k.strip().lower() == b"content-length"), 0)
    await reader.readexactly(length)
    return status


async def load(port: int, request: bytes, count: int, concurrency: int, deadline: float,
               on_progress=None) -> tuple[list[float], dict[int, int], float]:
    """``count`` requests over ``concurrency`` connections, stopping at ``deadline``."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    issued = 0

    async def client() -> None:
        nonlocal issued
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while issued < count and time.monotonic() < deadline:
                issued += 1
                started = time.perf_counter()
                status = await exchange(reader, writer, request)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
                if on_progress and len(latencies) % 1000 == 0:
                    on_progress(len(latencies))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, statuses, time.perf_counter() - started


async def flood(port: int, request: bytes, connections: int) -> dict[int | str, int]:
    """``connections`` clients at once, one request each; counts statuses (or errors)."""
    async def one() -> int | str:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            try:
                return await asyncio.wait_for(exchange(reader, writer, request), 60)
            finally:
                writer.close()
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as exc:
            return type(exc).__name__

    counts: dict[int | str, int] = {}
    for result in await asyncio.gather(*(one() for _ in range(connections))):
        counts[result] = counts.get(result, 0) + 1
    return counts


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report_line(label: str, latencies: list[float], rate: float, statuses: dict) -> None:
    print(f"{label:<26} {len(latencies):>6} req {rate:>8.0f} req/s   p50 {percentile(latencies, .5) * 1e3:6.1f} ms"
          f"   p99 {percentile(latencies, .99) * 1e3:6.1f} ms   statuses {statuses or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="digitkit home with a completed cnn run")
    parser.add_argument("--model", default="cnn", help="model reference to serve")
    parser.add_argument("--requests", type=int, default=20_000, help="predictions in the main phase")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="time cap of the main phase")
    parser.add_argument("--side", type=int, default=28, help="side of the PNG sent, in pixels")
    parser.add_argument("--no-preprocess", action="store_true",
                        help="send preprocess=false (only resize), as for digits already in MNIST form")
    parser.add_argument("--flood", type=int, default=300, help="connections in the flood phase (0 to skip)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch) / "home"
        ensure_run(home)
        env = {**os.environ, "DIGITKIT_HOME": str(home)}
        png = digit_png(args.side)
        proc, port = start_server(args.model, env)
        try:
            run_phases(args, port, proc.pid, png)
        finally:
            proc.terminate()
            code = proc.wait(timeout=60)
            print(f"server exit code after SIGTERM: {code}")


def run_phases(args, port: int, pid: int, png: bytes) -> None:
    query = "top_k=3" + ("&preprocess=false" if args.no_preprocess else "")
    predict = request_bytes("POST", f"/api/predict?{query}", png)
    health = request_bytes("GET", "/healthz")
    print(f"{os.cpu_count()} CPUs (shared with whatever else runs), {args.concurrency} clients, "
          f"{len(png)}-byte {args.side}x{args.side} PNG, {'resize only' if args.no_preprocess else 'preprocessed'}")
    asyncio.run(load(port, predict, 300, args.concurrency, time.monotonic() + 60))  # warm-up
    # Baseline and predictions interleaved in blocks, so both see the same machine load.
    deadline = time.monotonic() + args.max_seconds
    samples = [(0, rss_mb(pid))]
    latencies, base_latencies, ratios, rates, base_rates = [], [], [], [], []
    statuses: dict[int, int] = {}
    while len(latencies) < args.requests and time.monotonic() < deadline:
        b_lat, _, b_sec = asyncio.run(load(port, health, 500, args.concurrency, deadline))
        block = min(BLOCK, args.requests - len(latencies))
        done = len(latencies)
        p_lat, p_status, p_sec = asyncio.run(load(
            port, predict, block, args.concurrency, deadline,
            on_progress=lambda n: samples.append((done + n, rss_mb(pid)))))
        if not p_lat or not b_lat:
            break
        base_latencies += b_lat
        latencies += p_lat
        for code, n in p_status.items():
            statuses[code] = statuses.get(code, 0) + n
        rates.append(len(p_lat) / p_sec)
        base_rates.append(len(b_lat) / b_sec)
        ratios.append(rates[-1] / base_rates[-1])
    rate = statistics.median(rates)
    report_line("GET /healthz (baseline)", base_latencies, statistics.median(base_rates), {})
    report_line("POST /api/predict", latencies, rate, statuses)
    print(f"{'predict / baseline':<26} {statistics.median(ratios):.2f}x (median of {len(ratios)} interleaved blocks; "
          f"predictions/s per block: {min(rates):.0f}..{max(rates):.0f})")
    early = statistics.median(mb for _, mb in samples[1:6]) if len(samples) > 5 else samples[0][1]
    late = statistics.median(mb for _, mb in samples[-5:])
    print(f"server RSS: {samples[0][1]:.0f} MB after warm-up, median {early:.0f} MB over requests 1k-5k, "
          f"{late:.0f} MB over the last 5k of {len(latencies)} (growth {late - early:+.1f} MB)")
    p99 = percentile(latencies, .99) * 1e3
    print(f"targets: >= 300 req/s {'met' if rate >= 300 else 'MISSED'}, p99 <= 100 ms "
          f"{'met' if p99 <= 100 else 'MISSED'}, RSS flat (< 10 MB growth) {'met' if late - early < 10 else 'MISSED'}")
    if args.flood:
        before = rss_mb(pid)
        counts = asyncio.run(flood(port, predict, args.flood))
        print(f"flood of {args.flood} connections: {counts}; RSS {before:.0f} -> {rss_mb(pid):.0f} MB")


if __name__ == "__main__":
    main()
