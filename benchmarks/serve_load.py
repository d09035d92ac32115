"""`digitkit serve` under load: ``--workers 2`` against ``--workers 1``, on 127.0.0.1 only.

    python benchmarks/serve_load.py [--home DIR] [--model cnn] [--requests 20000]
        [--concurrency 16] [--max-seconds 300] [--workers 2] [--photo-requests 4000]
        [--no-preprocess] [--flood 300]

Starts two ``digitkit serve --port 0`` subprocesses, the baseline with ``--workers 1`` and
the candidate with ``--workers N`` (the latest completed ``cnn`` run of ``--home``, or a small
one trained into a temporary home), then, with ``--concurrency`` keep-alive clients on raw
asyncio sockets (a heavyweight HTTP client would measure itself):

1. ``POST /api/predict`` with a 28x28 PNG of a held-out test digit, in blocks of 1,000
   alternating between the two servers (so both see the same machine load), up to
   ``--requests`` per server or ``--max-seconds``, sampling every worker's RSS every 1,000;
2. the same with an ordinary ~30 KB photo JPEG of a digit on paper (``--photo-requests``);
3. SIGTERM to the candidate while its clients are sending: every request it admitted must be
   answered (200), and it must exit 0;
4. optionally a flood: ``--flood`` connections at once, each one prediction: 200 or 503 only.

Prints predictions/s (median over blocks), p50/p99 latency as the clients see it (from
sending a request to reading its answer's last byte; this client is one asyncio process, well
under a tenth of a core at 1,000 requests/s, on the same machine) and the server's own p99
(its ``/metrics`` latency histogram, interpolated in its buckets: admission to last byte, so
what the client's figure adds is the network stack and waiting to be read), the candidate /
baseline ratio (median of the per-pair ratios), RSS per worker over the run, and the load
average at the start and the end (the machine's other work shows in every figure).
Targets (issue 26): with 2 workers >= 1.6x the predictions/s of 1 worker for 28x28 PNGs at 16
clients, >= 500/s with p99 <= 50 ms; >= 250/s for 30 KB photo JPEGs; RSS flat (within 5 MB
per worker) over 20,000; SIGTERM under load: every admitted request answered, exit 0.
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
BLOCK = 1000  # predictions per block; blocks alternate between the two servers


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


def photo_jpeg(target_kb: int = 30) -> bytes:
    """A held-out digit written on a photographed page: 640x480, uneven light, paper grain,
    JPEG at the quality that makes it about ``target_kb`` KB (what a phone photo, cropped, is)."""
    import numpy as np
    from PIL import Image, ImageFilter

    from digitkit.data import load_digits

    digits = load_digits("sample", split="test")
    ink = Image.fromarray(digits.images[0]).resize((260, 260), Image.Resampling.BICUBIC).filter(
        ImageFilter.GaussianBlur(1.2))
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:480, 0:640]
    paper = 200 + 30 * np.cos(x / 500) * np.sin(y / 400) + rng.normal(0, 6, (480, 640))
    page = paper.copy()
    page[110:370, 190:450] -= np.asarray(ink, float) * 0.7
    rgb = np.stack([page * 1.0, page * 0.97, page * 0.9], axis=-1)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    best = b""
    for quality in range(95, 20, -5):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        best = buffer.getvalue()
        if len(best) <= target_kb * 1024:
            break
    return best


def worker_pids(pid: int) -> list[int]:
    """The server's worker processes (itself when it has none)."""
    children = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)], capture_output=True, text=True)
    found = [int(line.split()[0]) for line in children.stdout.splitlines()
             if line.split() and "resource_tracker" not in line]
    workers = []
    for child in found:  # multiprocessing's resource tracker is a child too: keep the servers
        try:
            with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                if b"resource_tracker" in cmdline.read():
                    continue
        except FileNotFoundError:
            continue
        workers.append(child)
    return workers or [pid]


def start_server(model: str, env: dict[str, str], workers: int = 1) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "digitkit", "serve", "--model", model, "--port", "0",
                             "--host", HOST, "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
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


def server_buckets(port: int) -> dict[float, float]:
    """The server's own latency histogram of answered predictions (``POST /api/predict``, 200):
    cumulative counts by upper bound in seconds, summed over its workers (``/metrics``)."""
    import re
    import urllib.request

    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith("digitkit_http_request_duration_seconds_bucket{") and 'route="/api/predict"' in line \
                and 'method="POST"' in line and 'status="200"' in line:
            bound = re.search(r'le="([^"]+)"', line).group(1)
            buckets[float("inf") if bound == "+Inf" else float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def bucket_percentile(before: dict[float, float], after: dict[float, float], share: float) -> float:
    """The ``share`` percentile (seconds) of the requests answered between two histogram
    snapshots, interpolated linearly inside its bucket (as Prometheus' histogram_quantile)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return float("nan")
    rank, low, below = share * counts[-1], 0.0, 0.0
    for bound, cumulative in zip(bounds, counts):
        if cumulative >= rank:
            if bound == float("inf"):
                return low
            return low + (bound - low) * (rank - below) / max(cumulative - below, 1e-12)
        low, below = bound, cumulative
    return low


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report_line(label: str, latencies: list[float], rate: float, statuses: dict, server_p99: float) -> None:
    print(f"{label:<26} {len(latencies):>6} req {rate:>8.0f} req/s   p50 {percentile(latencies, .5) * 1e3:6.1f} ms"
          f"   p99 {percentile(latencies, .99) * 1e3:6.1f} ms (server side {server_p99 * 1e3:5.1f})"
          f"   statuses {statuses or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="digitkit home with a completed cnn run")
    parser.add_argument("--model", default="cnn", help="model reference to serve")
    parser.add_argument("--requests", type=int, default=20_000, help="28x28 PNG predictions per server")
    parser.add_argument("--photo-requests", type=int, default=4_000, help="photo JPEG predictions per server")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent keep-alive clients")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="time cap of each phase")
    parser.add_argument("--workers", type=int, default=2, help="workers of the candidate server")
    parser.add_argument("--no-preprocess", action="store_true",
                        help="send preprocess=false (only resize), as for digits already in MNIST form")
    parser.add_argument("--flood", type=int, default=0, help="connections in the flood phase (0 to skip)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch) / "home"
        ensure_run(home)
        env = {**os.environ, "DIGITKIT_HOME": str(home)}
        servers = [start_server(args.model, env, 1), start_server(args.model, env, args.workers)]
        try:
            run_phases(args, servers)
        finally:
            for proc, _ in servers:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait(timeout=60)


def compare(args, servers, request: bytes, count: int, label: str) -> tuple[float, float, list[dict]]:
    """Alternating blocks on both servers; returns the candidate's rate, its p99 (ms), RSS samples."""
    (base, base_port), (cand, cand_port) = servers
    for port in (base_port, cand_port):  # warm-up
        asyncio.run(load(port, request, 300, args.concurrency, time.monotonic() + 60))
    deadline = time.monotonic() + args.max_seconds
    results = {base_port: ([], [], {}), cand_port: ([], [], {})}
    histograms = {port: server_buckets(port) for port in (base_port, cand_port)}
    ratios = []
    rss = [{pid: rss_mb(pid) for pid in worker_pids(cand.pid)}]
    while len(results[cand_port][0]) < count and time.monotonic() < deadline:
        rates = {}
        for port in (base_port, cand_port):
            latencies, block_rates, statuses = results[port]
            block = min(BLOCK, count - len(latencies))
            lat, status, seconds = asyncio.run(load(port, request, block, args.concurrency, deadline))
            if not lat:
                break
            latencies += lat
            block_rates.append(len(lat) / seconds)
            rates[port] = block_rates[-1]
            for code, n in status.items():
                statuses[code] = statuses.get(code, 0) + n
        if len(rates) < 2:
            break
        ratios.append(rates[cand_port] / rates[base_port])
        rss.append({pid: rss_mb(pid) for pid in worker_pids(cand.pid)})
    server_p99 = {port: bucket_percentile(histograms[port], server_buckets(port), .99)
                  for port in (base_port, cand_port)}
    for name, port in (("--workers 1", base_port), (f"--workers {args.workers}", cand_port)):
        latencies, block_rates, statuses = results[port]
        report_line(f"{label}, {name}", latencies, statistics.median(block_rates), statuses, server_p99[port])
    print(f"{label}: workers {args.workers} / workers 1 = {statistics.median(ratios):.2f}x "
          f"(median of {len(ratios)} interleaved pairs of {BLOCK})")
    latencies, block_rates, _ = results[cand_port]
    return statistics.median(block_rates), percentile(latencies, .99) * 1e3, rss


def sigterm_under_load(args, server) -> None:
    """SIGTERM while clients send: admitted requests answered (200), then exit 0."""
    proc, port = server
    png = digit_png(28)
    request = request_bytes("POST", "/api/predict?top_k=3", png)
    outcomes: dict[int | str, int] = {}

    async def client(stop_at: float) -> None:
        while time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                outcomes["refused (after the socket closed)"] = outcomes.get("refused (after the socket closed)", 0) + 1
                await asyncio.sleep(0.05)
                continue
            try:
                while time.monotonic() < stop_at:
                    try:
                        status = await asyncio.wait_for(exchange(reader, writer, request), 30)
                    except (asyncio.IncompleteReadError, ConnectionError):
                        key = "closed between requests (keep-alive ended, nothing admitted)"
                        outcomes[key] = outcomes.get(key, 0) + 1
                        break
                    outcomes[status] = outcomes.get(status, 0) + 1
            finally:
                writer.close()

    async def scenario() -> None:
        stop_at = time.monotonic() + 4
        tasks = [asyncio.create_task(client(stop_at)) for _ in range(args.concurrency)]
        await asyncio.sleep(1.5)
        proc.terminate()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    code = proc.wait(timeout=60)
    print(f"SIGTERM under load ({args.concurrency} clients): {outcomes}; exit code {code}")


def run_phases(args, servers) -> None:
    query = "top_k=3" + ("&preprocess=false" if args.no_preprocess else "")
    png, jpeg = digit_png(28), photo_jpeg()
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at the start; "
          f"{os.cpu_count()} CPUs (shared with whatever else runs), {args.concurrency} clients, "
          f"{'resize only' if args.no_preprocess else 'preprocessed'}; {len(png)}-byte 28x28 PNG, "
          f"{len(jpeg) / 1024:.0f} KB 640x480 photo JPEG")
    rate, p99, rss = compare(args, servers, request_bytes("POST", f"/api/predict?{query}", png),
                             args.requests, "28x28 PNG")
    first, last = rss[min(1, len(rss) - 1)], rss[-1]
    growth = {pid: last.get(pid, float("nan")) - mb for pid, mb in first.items()}
    print("candidate RSS per worker (MB, after the first block -> the end): " +
          ", ".join(f"{first[pid]:.0f} -> {last.get(pid, float('nan')):.0f}" for pid in first))
    photo_rate, photo_p99, _ = compare(
        args, servers, request_bytes("POST", f"/api/predict?{query}", jpeg, "image/jpeg"),
        args.photo_requests, "30 KB photo JPEG")
    worst = max(abs(g) for g in growth.values())
    print(f"targets: >= 500 PNG/s {'met' if rate >= 500 else 'MISSED'} ({rate:.0f}), p99 <= 50 ms "
          f"{'met' if p99 <= 50 else 'MISSED'} ({p99:.1f}), >= 250 photos/s "
          f"{'met' if photo_rate >= 250 else 'MISSED'} ({photo_rate:.0f}), RSS within 5 MB per worker "
          f"{'met' if worst <= 5 else 'MISSED'} ({worst:.1f}); the 1.6x ratio is printed above")
    if args.flood:
        _, port = servers[1]
        counts = asyncio.run(flood(port, request_bytes("POST", f"/api/predict?{query}", png), args.flood))
        print(f"flood of {args.flood} connections: {counts}")
    sigterm_under_load(args, servers[1])
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
