"""Model discovery through the ``digitkit.models`` entry points.

Every model, built-in or third-party, arrives here the same way. One broken plugin is
recorded and skipped, never fatal (unless strict mode asks for it). Loading a spec never
imports TensorFlow: builders import Keras only when called.

Environment:
    DIGITKIT_PLUGINS: ``all`` (default); ``none`` for the built-in zoo only; or a
        comma-separated list of distribution names to load besides the built-ins.
    DIGITKIT_STRICT_PLUGINS: ``1`` turns any plugin problem into a :class:`PluginError`
        (for plugin authors and CI): a failed import, an exit or interrupt raised by a plugin,
        output printed while importing, an import over the time limit, an invalid spec.
    DIGITKIT_PLUGIN_TIMEOUT: seconds one entry point may take to import (default 5); a value
        that is not a positive number is refused (UsageError).

Containment (see docs/reliability.md): each third-party entry point is first imported in a
child process (:mod:`digitkit.plugins.vetting`, verdict cached per installed version); one
that exits, hangs, leaves a non-daemon thread or writes to fd 1/2 there is a broken plugin
and never imported here. Then each entry point is imported in a worker thread with
its stdout/stderr captured, ``BaseException`` caught (a plugin's ``sys.exit()`` or
``KeyboardInterrupt`` is a plugin problem, not digitkit's exit), and a time limit. An
import that outlives its limit is reported as "too slow to load" and its thread is
*abandoned*: Python cannot stop a thread, so it keeps running in the background (daemon,
so it never keeps the process alive) and the plugin's models stay unavailable. A plugin that
replaces ``sys.stdout``/``sys.stderr`` gets them put back after its import.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import functools
import io
import os
import re
import sys
import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import metadata
from typing import Any, Iterable, Iterator

from digitkit._internal.settings import PLUGIN_TIMEOUT_ENV as TIMEOUT_ENV
from digitkit._internal.settings import plugin_timeout as _timeout
from digitkit.errors import PluginError, UnknownModelError
from digitkit.spec import ModelSpec, natural_key

ENTRY_POINT_GROUP = "digitkit.models"
BUILTIN_DISTRIBUTION = "digitkit"
PLUGINS_ENV = "DIGITKIT_PLUGINS"
STRICT_ENV = "DIGITKIT_STRICT_PLUGINS"
DEBUG_ENV = "DIGITKIT_DEBUG"
MAX_CAPTURED_CHARS = 4000


@dataclass(frozen=True)
class Provider:
    """The distribution an entry point comes from."""

    distribution: str
    version: str

    @property
    def builtin(self) -> bool:
        return _normalise(self.distribution) == BUILTIN_DISTRIBUTION


@dataclass(frozen=True)
class RegisteredModel:
    """A spec and the distribution that provides it."""

    spec: ModelSpec
    provider: Provider
    entry_point: str


@dataclass(frozen=True)
class BrokenPlugin:
    """An entry point that could not be turned into a valid spec."""

    name: str
    provider: Provider
    entry_point: str
    error: str


@dataclass(frozen=True)
class Duplicate:
    """Two or more distributions claiming one model name."""

    name: str
    winner: Provider
    losers: tuple[Provider, ...]
    reason: str


@dataclass
class Registry:
    """Everything discovery found: usable models, broken plugins, name clashes."""

    models: dict[str, RegisteredModel] = field(default_factory=dict)
    broken: list[BrokenPlugin] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    output: dict[str, str] = field(default_factory=dict)  # entry point value -> what its import printed

    def names(self) -> list[str]:
        return sorted(self.models, key=natural_key)

    def providers(self) -> list[Provider]:
        """Each distribution that provides models or broken entry points, once."""
        seen: dict[str, Provider] = {}
        for item in [*self.models.values(), *self.broken]:
            seen.setdefault(item.provider.distribution, item.provider)
        return sorted(seen.values(), key=lambda p: (not p.builtin, p.distribution.lower()))


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _allowed_distributions() -> set[str] | None:
    """Distributions allowed besides the built-ins; ``None`` means all."""
    value = os.environ.get(PLUGINS_ENV, "all").strip()
    if value.lower() in ("", "all"):
        return None
    if value.lower() in ("none", "builtin", "builtins"):
        return set()
    return {_normalise(part) for part in value.split(",") if part.strip()}


def _strict() -> bool:
    from digitkit._internal.settings import flag

    return flag(STRICT_ENV)


def _provider_of(entry_point: metadata.EntryPoint) -> Provider:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return Provider("unknown", "?")
    return Provider(dist.metadata["Name"] or "unknown", dist.version or "?")


def enabled_entry_points(
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> Iterator[tuple[metadata.EntryPoint, Provider]]:
    """The ``digitkit.models`` entry points ``DIGITKIT_PLUGINS`` lets in, with their providers.

    Reads metadata only; nothing is imported.
    """
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    allowed = _allowed_distributions()
    for entry_point in entry_points:
        provider = _provider_of(entry_point)
        if allowed is None or provider.builtin or _normalise(provider.distribution) in allowed:
            yield entry_point, provider


class _ThreadOutput:
    """A stdout/stderr stand-in that captures what plugin-loading threads write.

    Other threads keep writing to the real stream, so digitkit's own output is never lost
    while a plugin (or an abandoned, hung import) runs; every other attribute (``isatty``,
    ``encoding``, ``fileno``) is the real stream's.
    """

    def __init__(self, real: Any) -> None:
        self.real = real
        self.captured: dict[int, io.StringIO] = {}

    def write(self, text: str) -> int:
        buffer = self.captured.get(threading.get_ident())
        return buffer.write(text) if buffer is not None else self.real.write(text)

    def flush(self) -> None:
        if threading.get_ident() not in self.captured:
            self.real.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


_capture_lock = threading.Lock()


@contextlib.contextmanager
def _captured_thread_output() -> Any:
    """Install thread-aware stdout/stderr for the block (a no-op if already installed)."""
    with _capture_lock:
        installed = []
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if not isinstance(stream, _ThreadOutput):
                setattr(sys, name, _ThreadOutput(stream))
                installed.append(name)
    try:
        yield
    finally:
        with _capture_lock:
            for name in installed:
                stream = getattr(sys, name)
                # An abandoned thread may still print: only unwrap when nothing is captured any more.
                if isinstance(stream, _ThreadOutput) and not stream.captured:
                    setattr(sys, name, stream.real)


@dataclass
class _Job:
    """One entry point to load in the worker thread, and what came of it."""

    entry_point: metadata.EntryPoint
    buffer: io.StringIO = field(default_factory=io.StringIO)
    done: threading.Event = field(default_factory=threading.Event)
    stage: str = "import failed: "
    value: Any = None
    error: BaseException | None = None

    def run(self) -> None:
        ident = threading.get_ident()
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, _ThreadOutput):
                stream.captured[ident] = self.buffer
        try:
            target = self.entry_point.load()
            self.stage = "spec factory raised "
            if not isinstance(target, ModelSpec) and callable(target):
                target = target()
            self.value = target
        except BaseException as exc:  # noqa: BLE001 - a plugin's exit/interrupt is its problem, not ours
            self.error = exc
        finally:
            for stream in (sys.stdout, sys.stderr):
                if isinstance(stream, _ThreadOutput):
                    stream.captured.pop(ident, None)
            self.done.set()


def _restore_streams(streams: tuple[Any, Any]) -> None:
    """Put back ``sys.stdout``/``sys.stderr`` if a plugin's import replaced them."""
    for name, stream in zip(("stdout", "stderr"), streams):
        if getattr(sys, name) is not stream:
            setattr(sys, name, stream)


class _Worker:
    """A daemon thread loading entry points one after another.

    One thread serves every entry point (starting a thread per entry point costs ~10 ms on a
    busy machine); a worker stuck in a hung import is abandoned and the next job gets a new one.
    """

    def __init__(self) -> None:
        import queue

        self.jobs: "queue.Queue[_Job]" = queue.Queue()
        self.thread = threading.Thread(target=self._serve, name="digitkit-plugin-loader", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            self.jobs.get().run()


_worker: _Worker | None = None
_worker_lock = threading.Lock()


def _import_in_thread(entry_point: metadata.EntryPoint, timeout: float) -> tuple[Any, str]:
    """Load an entry point (and call a spec factory) in the worker thread, bounded in time.

    Returns:
        (what the entry point named or its factory returned, what it printed).

    Raises:
        PluginError: the import raised anything (``SystemExit`` and ``KeyboardInterrupt``
            included) or took longer than ``timeout`` seconds.
    """
    global _worker
    job = _Job(entry_point)
    with _captured_thread_output():
        streams = sys.stdout, sys.stderr
        with _worker_lock:
            if _worker is None:
                _worker = _Worker()
            worker = _worker
        worker.jobs.put(job)
        finished = job.done.wait(timeout)
        _restore_streams(streams)
        if not finished:
            with _worker_lock:
                if _worker is worker:
                    _worker = None  # stuck in this import: abandoned, the next job gets a new thread
    printed = job.buffer.getvalue()[:MAX_CAPTURED_CHARS]
    if not finished:
        raise PluginError(f"too slow to load: importing {entry_point.value} took over {timeout:g} s "
                          f"(skipped; raise {TIMEOUT_ENV} if it is just slow, or leave it out with {PLUGINS_ENV})")
    if job.error is not None:
        exc = job.error
        kind = {SystemExit: "called sys.exit", KeyboardInterrupt: "raised KeyboardInterrupt"}.get(type(exc))
        if kind is not None:
            detail = f" ({exc})" if str(exc) else ""
            raise PluginError(f"{job.stage}the plugin {kind}{detail} while loading")
        raise PluginError(f"{job.stage}{type(exc).__name__}: {exc}")
    return job.value, printed


# Packages no plugin entry point may name: importing them is never "loading a plugin", and a
# framework import abandoned half-way by the time limit would break digitkit's own import of it.
NOT_PLUGIN_PACKAGES = frozenset({"tensorflow", "keras", "tf_keras", "torch", "jax", "builtins"})


def _foreign_package(entry_point: metadata.EntryPoint) -> str | None:
    top = entry_point.value.split(":", 1)[0].strip().split(".", 1)[0]
    if top in NOT_PLUGIN_PACKAGES or top in getattr(sys, "stdlib_module_names", ()):
        return top
    return None


def _load_spec(entry_point: metadata.EntryPoint, timeout: float | None = None) -> tuple[ModelSpec, str]:
    """Import an entry point and return the spec it names with what its import printed.

    Raises:
        PluginError: what went wrong (import, timeout, not a spec, failed quick checks).
    """
    foreign = _foreign_package(entry_point)
    if foreign is not None:
        raise PluginError(f"entry point {entry_point.value!r} names {foreign!r}, which is not a plugin's package "
                          "(not imported)")
    target, printed = _import_in_thread(entry_point, _timeout() if timeout is None else timeout)
    if not isinstance(target, ModelSpec):
        raise PluginError(f"expected a digitkit.spec.ModelSpec, got {type(target).__name__}")
    if target.name != entry_point.name:
        raise PluginError(f"entry point is named {entry_point.name!r} but its spec says {target.name!r}")
    from digitkit.plugins.checks import quick_spec_problem

    problem = quick_spec_problem(target)
    if problem:
        raise PluginError(f"invalid spec: {problem}")
    return _with_checked_builder(target), printed


def _with_checked_builder(spec: ModelSpec) -> ModelSpec:
    """The spec with a builder that refuses anything but a real ``keras.Model``.

    A duck-typed stand-in would pass shape checks and fail much later, mid-fit or on save.
    """
    builder = spec.builder
    if getattr(builder, "_digitkit_checked", False):
        return spec

    @functools.wraps(builder)
    def checked(*args: Any, **kwargs: Any) -> Any:
        from digitkit.plugins.checks import check_is_keras_model

        with _signals_noted() as signals:
            try:
                model = builder(*args, **kwargs)
            except SystemExit as exc:  # `show-model` used to exit with the plugin's code, silently
                raise PluginError(f"model {spec.name!r} failed to build: its builder called sys.exit"
                                  f"{f' ({exc})' if str(exc) else ''}") from None
            except KeyboardInterrupt:
                if signals:  # the user's Ctrl-C (or SIGTERM): theirs to report
                    raise
                raise PluginError(f"model {spec.name!r} failed to build: its builder raised KeyboardInterrupt "
                                  "(no Ctrl-C was pressed)") from None
        check_is_keras_model(spec.name, model)
        return model

    checked._digitkit_checked = True  # type: ignore[attr-defined]
    return replace(spec, builder=checked)


@contextlib.contextmanager
def _signals_noted() -> Iterator[list[int]]:
    """Within the block, note SIGINT/SIGTERM as they arrive (handled as before), so that a
    ``KeyboardInterrupt`` raised by plugin code is told apart from the user's Ctrl-C."""
    import signal

    noted: list[int] = []
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if callable(handler):  # SIG_DFL/SIG_IGN never raise KeyboardInterrupt: nothing to tell apart
                previous[signum] = handler
                signal.signal(signum, lambda number, frame, handler=handler: (noted.append(number),
                                                                              handler(number, frame)))
    try:
        yield noted
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _winner(candidates: list[RegisteredModel]) -> tuple[RegisteredModel, str]:
    builtins = [c for c in candidates if c.provider.builtin]
    if builtins:
        return builtins[0], "the built-in zoo takes precedence over plugins"
    ordered = sorted(candidates, key=lambda c: _normalise(c.provider.distribution))
    return ordered[0], "first distribution name in alphabetical order (rename one to use both)"


def discover(entry_points: Iterable[metadata.EntryPoint] | None = None) -> Registry:
    """Load every allowed ``digitkit.models`` entry point into a :class:`Registry`.

    Args:
        entry_points: entry points to load instead of the installed ones (tests).

    Raises:
        PluginError: in strict mode, on the first broken plugin or name clash.
    """
    registry = Registry()
    claims: dict[str, list[RegisteredModel]] = {}
    seen: set[tuple[str, str]] = set()
    timeout = _timeout()
    pairs = list(enabled_entry_points(entry_points))
    vetted = _vetted([(ep, p) for ep, p in pairs if not p.builtin and _foreign_package(ep) is None], timeout)
    for entry_point, provider in pairs:
        key = (provider.distribution, entry_point.name)
        if key in seen:  # the same distribution visible twice on sys.path
            continue
        seen.add(key)
        try:
            if vetted.get(entry_point.value):
                raise PluginError(vetted[entry_point.value])
            spec, printed = _load_spec(entry_point, timeout)
            if printed:
                registry.output[entry_point.value] = printed
                _show_debug(provider, entry_point, printed)
                if _strict():
                    raise PluginError(f"printed {len(printed)} characters while importing (a plugin must not "
                                      "write to stdout/stderr at import)")
        except PluginError as exc:
            broken = BrokenPlugin(entry_point.name, provider, entry_point.value, exc.message)
            if _strict():
                raise PluginError(
                    f"plugin {provider.distribution} {provider.version}, model {entry_point.name!r}: {exc.message}"
                ) from exc
            registry.broken.append(broken)
            continue
        claims.setdefault(spec.name, []).append(RegisteredModel(spec, provider, entry_point.value))
    for name, candidates in claims.items():
        winner, reason = _winner(candidates)
        registry.models[name] = winner
        if len(candidates) > 1:
            losers = tuple(c.provider for c in candidates if c is not winner)
            if _strict():
                names = ", ".join(c.provider.distribution for c in candidates)
                raise PluginError(f"model name {name!r} is claimed by several distributions: {names}")
            registry.duplicates.append(Duplicate(name, winner.provider, losers, reason))
    return registry


def _vetted(pairs: list[tuple[metadata.EntryPoint, Provider]], timeout: float) -> dict[str, str | None]:
    """What importing each third-party entry point did in a child process (see :mod:`.vetting`)."""
    if not pairs:
        return {}
    from digitkit.plugins import vetting

    try:
        return vetting.problems(pairs, timeout)
    except OSError:  # no child process here (a sandbox): the in-process thread isolation still holds
        return {}


def _show_debug(provider: Provider, entry_point: metadata.EntryPoint, printed: str) -> None:
    """With ``--debug``, show what a plugin printed at import (on stderr, never stdout)."""
    if os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        sys.stderr.write(f"[plugin {provider.distribution} {entry_point.value} printed at import]\n{printed}\n")


@lru_cache(maxsize=1)
def _cached_registry() -> Registry:
    return discover()


def get_registry() -> Registry:
    """The registry of this process, discovered once."""
    return _cached_registry()


def reset() -> None:
    """Forget the discovered registry (after installing a plugin, or in tests)."""
    _cached_registry.cache_clear()


def _matches(name: str, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(name, pattern.lower())
    return pattern.lower() in name


def list_models(pattern: str | None = None) -> list[RegisteredModel]:
    """Registered models in natural order, filtered by a wildcard pattern or substring."""
    registry = get_registry()
    names = [n for n in registry.names() if pattern is None or _matches(n, pattern)]
    return [registry.models[n] for n in names]


def canonical_name(name: str) -> str:
    """The registered spelling of ``name`` (model names are lower case; users may type ``CNN``)."""
    models = get_registry().models
    if name in models:
        return name
    lowered = name.strip().lower()
    return lowered if lowered in models else name


def is_model(name: str) -> bool:
    return canonical_name(name) in get_registry().models


def get_model(name: str) -> RegisteredModel:
    """The registered model called ``name``.

    Raises:
        UnknownModelError: no such model; the message suggests the closest names.
    """
    registry = get_registry()
    name = canonical_name(name)
    if name in registry.models:
        return registry.models[name]
    broken = [b for b in registry.broken if b.name == name.lower()]
    if broken:
        b = broken[0]
        raise PluginError(
            f"model {name!r} comes from a broken plugin ({b.provider.distribution} {b.provider.version}): {b.error}"
        )
    close = difflib.get_close_matches(name.lower(), registry.names(), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "see `digitkit list-models`"
    raise UnknownModelError(f"unknown model {name!r}", hint=hint)


def get_spec(name: str) -> ModelSpec:
    """The spec of the registered model called ``name`` (see :func:`get_model`)."""
    return get_model(name).spec
