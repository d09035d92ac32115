"""Third-party plugins are imported first in a child process, once per installed version.

A thread cannot contain a plugin (docs/reliability.md): ``os._exit()`` at import ends the
whole process (``list-models`` exited 0 with no output), a non-daemon thread it starts
keeps the interpreter alive after the command (``list-models`` printed its table and never
exited), and bytes written straight to file descriptor 1 or a replaced ``sys.stdout`` broke
``list-models --json``. So each new third-party entry point is imported in a child process
first, which reports what the import did; only the ones that behaved are then imported in
digitkit's own process (with the thread isolation of :mod:`digitkit.plugins.registry`).

The verdicts are cached in the home (``cache/plugin-vetting.json``), keyed by distribution,
version, entry point and where the distribution is installed: the child runs again only
after a plugin is installed, upgraded or moved. "Too slow" is never cached (the machine
may just have been busy).

Run as ``python -m digitkit.plugins.vetting FD``: reads entry points as JSON on stdin and
writes one JSON line per event on file descriptor ``FD`` (never stdout, which a plugin may
write to).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

CACHE_NAME = "plugin-vetting.json"
CACHE_VERSION = 1
STARTUP_S = 60.0  # the child's own start (Python, digitkit.spec) on a loaded machine
PRELOAD_S = 120.0  # more when it first imports the frameworks this process already has
# Frameworks this process may already hold: the child imports them before the clock starts, so
# a plugin's import is timed as it would be here (a plugin importing keras at module level is
# instant in a process that has keras, and takes TensorFlow's import time in one that has not).
FRAMEWORKS = ("tensorflow", "keras")
MAX_PRINTED = 4000


def _key(entry_point: metadata.EntryPoint, provider: Any) -> str:
    dist = getattr(entry_point, "dist", None)
    where = str(getattr(dist, "_path", "") or "")
    try:
        stamp = os.stat(where).st_mtime_ns if where else 0
    except OSError:
        stamp = 0
    return f"{provider.distribution}=={provider.version}|{entry_point.name}={entry_point.value}|{where}@{stamp}"


def _cache_path() -> Path:
    from digitkit.home import home_dir

    return home_dir() / "cache" / CACHE_NAME


def _read_cache() -> dict[str, Any]:
    try:
        with open(_cache_path(), "rb") as handle:
            data = json.loads(handle.read(1 << 20))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("verdicts"), dict):
        return {}
    return data["verdicts"]


def _write_cache(verdicts: dict[str, Any]) -> None:
    from digitkit._internal import atomic

    try:
        _cache_path().parent.mkdir(parents=True, exist_ok=True)
        atomic.write_json(_cache_path(), {"version": CACHE_VERSION, "verdicts": verdicts})
    except Exception:  # noqa: BLE001 - a cache that cannot be written only costs time next run
        pass


def problems(pairs: Iterable[tuple[metadata.EntryPoint, Any]], timeout: float) -> dict[str, str | None]:
    """``{entry_point.value: problem or None}`` for third-party entry points, vetted in a child.

    Args:
        pairs: (entry point, provider) of the plugins to vet; built-ins are never passed.
        timeout: seconds one entry point may take to import.
    """
    pairs = list(pairs)
    if not pairs:
        return {}
    cache = _read_cache()
    verdicts: dict[str, str | None] = {}
    todo = []
    for entry_point, provider in pairs:
        cached = cache.get(_key(entry_point, provider))
        if isinstance(cached, dict) and "problem" in cached:
            verdicts[entry_point.value] = cached["problem"]
        else:
            todo.append((entry_point, provider))
    if todo:
        found = _vet([ep for ep, _ in todo], timeout)
        for entry_point, provider in todo:
            problem, cacheable = found[entry_point.value]
            verdicts[entry_point.value] = problem
            if cacheable:
                cache[_key(entry_point, provider)] = {"problem": problem}
        _write_cache(cache)
    return verdicts


def _vet(entry_points: list[metadata.EntryPoint], timeout: float) -> dict[str, tuple[str | None, bool]]:
    """Import each entry point in a child process; a child that dies or hangs is replaced for the rest."""
    results: dict[str, tuple[str | None, bool]] = {}
    remaining = list(entry_points)
    while remaining:
        done = _one_child(remaining, timeout)  # at least one verdict: the loop always moves on
        for entry_point, verdict in zip(remaining, done):
            results[entry_point.value] = verdict
        remaining = remaining[len(done):]
    return results


def _one_child(entry_points: list[metadata.EntryPoint], timeout: float) -> list[tuple[str | None, bool]]:
    """Verdicts for a prefix of ``entry_points`` (at least one): the child stops at the first it cannot survive."""
    reader, writer = os.pipe()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    preload = [name for name in FRAMEWORKS if name in sys.modules]
    payload = json.dumps({"preload": preload, "entries": [[ep.name, ep.value, ep.group] for ep in entry_points]})
    try:
        proc = subprocess.Popen([sys.executable, "-m", "digitkit.plugins.vetting", str(writer)], pass_fds=(writer,),
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                start_new_session=True)  # the user's Ctrl-C is for digitkit, not a plugin's child
    finally:
        os.close(writer)
    verdicts: list[tuple[str | None, bool]] = []
    buffered = b""
    try:
        proc.stdin.write(payload.encode())
        proc.stdin.close()
    except OSError:
        pass
    deadline = time.monotonic() + STARTUP_S + (PRELOAD_S if preload else 0) + timeout
    current: int | None = None
    try:
        while len(verdicts) < len(entry_points):
            left = deadline - time.monotonic()
            ready = select.select([reader], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                index = current if current is not None else len(verdicts)
                value = entry_points[index].value
                slow = (f"too slow to load: importing {value} took over {timeout:g} s (skipped; raise "
                        "DIGITKIT_PLUGIN_TIMEOUT if it is just slow, or leave it out with DIGITKIT_PLUGINS)")
                verdicts.append((slow, False))
                break
            chunk = os.read(reader, 65536)
            if not chunk:  # the child ended without a verdict for the entry point it was importing
                code = proc.wait()
                verdicts.append((f"the plugin ended the process while loading (os._exit or a crash, exit code {code})",
                                 True))
                break
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                event = json.loads(line)
                if event.get("start") is not None:
                    current = int(event["start"])
                    deadline = time.monotonic() + timeout
                else:
                    verdicts.append((event.get("problem"), True))
                    current = None
    finally:
        os.close(reader)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return verdicts


# --- the child --------------------------------------------------------------------------------

def _report(fd: int, event: dict[str, Any]) -> None:
    os.write(fd, (json.dumps(event) + "\n").encode())


def _vet_one(entry_point: metadata.EntryPoint) -> str | None:
    import io
    import tempfile
    import threading

    from digitkit.spec import ModelSpec

    before = set(threading.enumerate())
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as raw:
        os.dup2(raw.fileno(), 1)
        os.dup2(raw.fileno(), 2)
        ours = io.StringIO(), io.StringIO()
        real = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = ours
        problem, stage = None, "import failed: "  # the same words as registry._import_in_thread
        try:
            target = entry_point.load()
            stage = "spec factory raised "
            if not isinstance(target, ModelSpec) and callable(target):
                target = target()
        except SystemExit as exc:
            problem = f"{stage}the plugin called sys.exit{f' ({exc})' if str(exc) else ''} while loading"
        except KeyboardInterrupt:
            problem = f"{stage}the plugin raised KeyboardInterrupt while loading"
        except BaseException as exc:  # noqa: BLE001 - reported; the parent skips the plugin
            problem = f"{stage}{type(exc).__name__}: {exc}"
        finally:
            replaced = [name for name, mine in zip(("stdout", "stderr"), ours) if getattr(sys, name) is not mine]
            sys.stdout, sys.stderr = real
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        written = os.fstat(raw.fileno()).st_size
    if problem:
        return problem[:MAX_PRINTED]
    if replaced:
        return f"replaced sys.{' and sys.'.join(replaced)} while loading (a plugin must not touch digitkit's output)"
    if written:
        return (f"wrote {written} bytes straight to file descriptor 1/2 while loading (a plugin must not write "
                "to digitkit's output)")
    stray = [t.name for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    if stray:
        return (f"started a non-daemon thread ({', '.join(stray)[:80]}) while loading, which would keep digitkit "
                "from exiting")
    return None


def _child(fd: int) -> None:
    import importlib

    request = json.loads(sys.stdin.read())
    for name in request["preload"]:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - then the plugin's import pays for it, as it would here
            pass
    for index, (name, value, group) in enumerate(request["entries"]):
        _report(fd, {"start": index})
        problem = _vet_one(metadata.EntryPoint(name, value, group))
        _report(fd, {"problem": problem})
    os._exit(0)  # a plugin's stray threads must not keep the child alive


if __name__ == "__main__":
    _child(int(sys.argv[1]))
