"""Pretrained weights shipped inside the package, with their model cards.

Every zoo model (and ``cnn-best``) ships trained on MNIST, so a new install answers at once:
``weights/MODEL.tflite`` (float16 weights, for the LiteRT runtime), ``weights/MODEL.keras``
where the package's size budget allows, and ``weights/MODEL.json``, the model card (recipe,
seed, data fingerprint, test accuracy, sha256 of each file, licence). They are made by
``scripts/train_pretrained.py`` and described in docs/pretrained.md.

Nothing here imports TensorFlow or Keras: resolving ``cnn@pretrained`` stays instant.

    >>> from digitkit import pretrained
    >>> "cnn" in pretrained.names()
    True
    >>> pretrained.path("cnn").name
    'cnn.tflite'
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from digitkit.errors import ModelRefusedError, UsageError

WEIGHTS_DIR = Path(__file__).parent / "weights"
KINDS = ("tflite", "keras")
# Cards are a few KB; anything larger is not ours.
MAX_CARD_BYTES = 256 * 1024


def names() -> list[str]:
    """Names of the models that ship pretrained weights, in registry order (natural sort)."""
    return list(_names())


@functools.lru_cache(maxsize=1)
def _names() -> tuple[str, ...]:
    # The package's files do not change while it runs: one listing per process.
    from digitkit.spec import natural_key

    found = [p.stem for p in WEIGHTS_DIR.glob("*.json") if p.is_file() and (WEIGHTS_DIR / f"{p.stem}.tflite").is_file()]
    return tuple(sorted(found, key=natural_key))


def has(name: str) -> bool:
    """Whether ``name`` ships pretrained weights."""
    return name in names()


def path(name: str, kind: str = "tflite") -> Path | None:
    """The shipped weights file of ``name``, or ``None`` when that model or format is not shipped.

    Args:
        name: a model name, e.g. ``"cnn"``.
        kind: ``"tflite"`` (always shipped with a card) or ``"keras"`` (where size allowed).

    Raises:
        UsageError: ``kind`` is neither ``"tflite"`` nor ``"keras"``.
    """
    if kind not in KINDS:
        raise UsageError(f"expected kind in {KINDS}. Received: kind={kind!r}")
    if name not in names():
        return None
    file = WEIGHTS_DIR / f"{name}.{kind}"
    return file if file.is_file() else None


def card(name: str) -> dict[str, Any]:
    """The model card of ``name``'s shipped weights (see docs/pretrained.md for its fields).

    Raises:
        UsageError: ``name`` ships no pretrained weights (the message lists those that do).
    """
    if name not in names():
        shipped = ", ".join(names()) or "none"
        raise UsageError(f"no pretrained weights for {name!r}; shipped: {shipped}")
    with open(WEIGHTS_DIR / f"{name}.json", "rb") as handle:
        data = handle.read(MAX_CARD_BYTES + 1)
    if len(data) > MAX_CARD_BYTES:
        raise UsageError(f"the model card of {name!r} is larger than {MAX_CARD_BYTES:,} bytes: package damaged")
    return json.loads(data)


REINSTALL_HINT = "reinstall digitkit: pip install --force-reinstall --no-deps digitkit"
_verified: set[Path] = set()


def verified(name: str, kind: str = "tflite") -> Path:
    """The shipped weights file, after checking it against the SHA-256 in its model card.

    Shipped weights swapped for another model's file used to answer as the other model, and
    other damage was reported as if the user could retrain it. A few milliseconds, once per
    file and process.

    Raises:
        ModelRefusedError: the file's digest is not its card's (exit 4), saying to reinstall.
        UsageError: ``name`` ships no such weights.
    """
    file = path(name, kind)
    if file is None:
        raise UsageError(f"no shipped {kind} weights for {name!r}")
    if file in _verified:
        return file
    from digitkit._internal.hashing import sha256

    try:
        expected = card(name)["files"][kind]["sha256"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelRefusedError(f"the model card of the shipped {name} weights is damaged ({exc!r})",
                                hint=REINSTALL_HINT) from None
    try:
        actual = sha256(file).removeprefix("sha256:")
    except OSError as exc:
        raise ModelRefusedError(f"the shipped {name} weights ({file.name}) cannot be read: {exc.strerror}",
                                hint=REINSTALL_HINT) from None
    if actual != expected:
        raise ModelRefusedError(f"the shipped {name} weights ({file.name}) are damaged: their SHA-256 is not "
                                "the one in their model card", hint=REINSTALL_HINT)
    _verified.add(file)
    return file
