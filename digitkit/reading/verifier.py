"""Is a candidate a whole digit, or a piece of one / two joined? A small learned check.

A digit classifier answers for whatever it is shown, and is often sure of half a "3" or of a
"1" and an "8" run together. This verifier, trained by ``scripts/train_verifier.py`` on
candidates cut from numbers of MNIST *training* digits (labelled by whether they match a
true digit's box), scores each candidate from its 28x28 image and its shape in the line.
It knows nothing of the classes, so it works with any classifier of the zoo or a plugin.
It runs in numpy (two small matrix products per picture): no TensorFlow.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).with_name("verifier.npz")
# The verifier of lines where the writing runs together (``Line.joined``), trained on those
# lines only (``scripts/train_verifier.py --joined --numbers 4000``, seed 0): there a whole digit is often one
# made by a cut, with a sliver of its neighbour, which the general verifier doubts.
JOINED_WEIGHTS = Path(__file__).with_name("verifier-joined.npz")


@functools.lru_cache(maxsize=2)
def _weights(joined: bool = False) -> dict[str, np.ndarray] | None:
    path = JOINED_WEIGHTS if joined else WEIGHTS
    if not path.exists():
        return None
    with np.load(path) as data:
        return {k: data[k].astype(np.float32) for k in data.files}


def available() -> bool:
    return _weights() is not None


def features(images: np.ndarray, geometry: np.ndarray) -> np.ndarray:
    """The verifier's input: the flattened 28x28 images beside the shape features."""
    return np.concatenate([images.reshape(len(images), -1), geometry], axis=1).astype(np.float32)


def log_whole(images: np.ndarray, geometry: np.ndarray, joined: bool = False) -> np.ndarray:
    """log P(whole digit) per candidate (zeros when no weights are installed); ``joined``:
    with the verifier of lines where the writing runs together (the general one if absent)."""
    weights = (_weights(True) if joined else None) or _weights()
    if weights is None or not len(images):
        return np.zeros(len(images), np.float32)
    x = features(images, geometry)
    hidden = np.maximum(x @ weights["w1"] + weights["b1"], 0.0)
    logit = (hidden @ weights["w2"] + weights["b2"]).ravel()
    return -np.logaddexp(0.0, -logit)  # log sigmoid, stable
