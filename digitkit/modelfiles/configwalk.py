"""Walking a ``.keras`` file's ``config.json`` as plain JSON, bounded in depth.

One walker for every check that reads the config before Keras does: the trust policy
(:mod:`digitkit.modelfiles.trust`) wants every serialised object, the weight check
(:mod:`digitkit.modelfiles.weights`) wants the layers. Each passes a predicate.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from digitkit.errors import ModelRefusedError

# Keras' own configs nest a dozen levels (nested models, initializers); 64 leaves room and
# refuses a config built to exhaust the recursion limit.
MAX_DEPTH = 64


def objects(node: Any, keep: Callable[[dict[str, Any]], bool], *, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON object under ``node`` (``node`` included) for which ``keep`` is true, in file order.

    Raises:
        ModelRefusedError: the config nests deeper than :data:`MAX_DEPTH` levels.
    """
    if depth > MAX_DEPTH:
        raise ModelRefusedError(f"config.json nests deeper than {MAX_DEPTH} levels: refused")
    if isinstance(node, dict):
        if keep(node):
            yield node
        for value in node.values():
            yield from objects(value, keep, depth=depth + 1)
    elif isinstance(node, list):
        for value in node:
            yield from objects(value, keep, depth=depth + 1)


def names_code(obj: dict[str, Any]) -> bool:
    """True for a serialised object: it names a class, a module or a registered name for Keras to resolve."""
    return any(key in obj for key in ("class_name", "module", "registered_name"))
