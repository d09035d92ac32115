"""Model discovery through the ``digitkit.models`` entry points.

Every model, built-in or third-party, arrives here the same way. One broken plugin is
recorded and skipped, never fatal (unless strict mode asks for it). Loading a spec never
imports TensorFlow: builders import Keras only when called.

Environment:
    DIGITKIT_PLUGINS: ``all`` (default); ``none`` for the built-in zoo only; or a
        comma-separated list of distribution names to load besides the built-ins.
    DIGITKIT_STRICT_PLUGINS: ``1`` turns any plugin problem into a :class:`PluginError`
        (for plugin authors and CI).
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from typing import Any, Iterable, Iterator

from digitkit.errors import PluginError, UnknownModelError
from digitkit.spec import ModelSpec

ENTRY_POINT_GROUP = "digitkit.models"
BUILTIN_DISTRIBUTION = "digitkit"
PLUGINS_ENV = "DIGITKIT_PLUGINS"
STRICT_ENV = "DIGITKIT_STRICT_PLUGINS"


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

    def names(self) -> list[str]:
        return sorted(self.models, key=natural_key)

    def providers(self) -> list[Provider]:
        """Each distribution that provides models or broken entry points, once."""
        seen: dict[str, Provider] = {}
        for item in [*self.models.values(), *self.broken]:
            seen.setdefault(item.provider.distribution, item.provider)
        return sorted(seen.values(), key=lambda p: (not p.builtin, p.distribution.lower()))


def natural_key(text: str) -> list[Any]:
    """Sort key that orders 'model-2' before 'model-10'."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


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
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


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


def _load_spec(entry_point: metadata.EntryPoint) -> ModelSpec:
    """Import an entry point and return the spec it names, or raise what went wrong."""
    try:
        target = entry_point.load()
    except Exception as exc:  # a plugin may raise anything at import time
        raise PluginError(f"import failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(target, ModelSpec) and callable(target):
        try:
            target = target()
        except Exception as exc:
            raise PluginError(f"spec factory raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(target, ModelSpec):
        raise PluginError(f"expected a digitkit.spec.ModelSpec, got {type(target).__name__}")
    if target.name != entry_point.name:
        raise PluginError(f"entry point is named {entry_point.name!r} but its spec says {target.name!r}")
    return target


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
    for entry_point, provider in enabled_entry_points(entry_points):
        key = (provider.distribution, entry_point.name)
        if key in seen:  # the same distribution visible twice on sys.path
            continue
        seen.add(key)
        try:
            spec = _load_spec(entry_point)
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


def is_model(name: str) -> bool:
    return name in get_registry().models


def get_model(name: str) -> RegisteredModel:
    """The registered model called ``name``.

    Raises:
        UnknownModelError: no such model; the message suggests the closest names.
    """
    registry = get_registry()
    if name in registry.models:
        return registry.models[name]
    broken = [b for b in registry.broken if b.name == name]
    if broken:
        b = broken[0]
        raise PluginError(
            f"model {name!r} comes from a broken plugin ({b.provider.distribution} {b.provider.version}): {b.error}"
        )
    close = difflib.get_close_matches(name, registry.names(), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "see `digitkit list-models`"
    raise UnknownModelError(f"unknown model {name!r}", hint=hint)


def get_spec(name: str) -> ModelSpec:
    """The spec of the registered model called ``name`` (see :func:`get_model`)."""
    return get_model(name).spec
