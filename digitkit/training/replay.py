"""Replay: digits the model already knew, mixed into a fine-tune's training digits.

Fine-tuning on a few dozen pictures of one writer pulls the weights toward that writer and
away from everyone else ("catastrophic forgetting", McCloskey & Cohen 1989). Mixing a share of
the original training digits back in (rehearsal, Robins 1995) is the simplest remedy: with
``--replay 0.5`` half of the digits of every epoch, and so about half of every shuffled batch,
come from MNIST.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from digitkit.data import Digits


def replay_count(own: int, fraction: float) -> int:
    """How many replayed digits make ``fraction`` of ``own + replayed``."""
    return int(round(own * fraction / (1.0 - fraction)))


def mix(train: Digits, fraction: float, dataset: Any, seed: int,
        status: Callable[[str], None] | None = None) -> tuple[Digits, str]:
    """``train`` with a seeded random draw of ``dataset``'s training digits added.

    Returns:
        the mixed digits and a note for the user.
    """
    from digitkit.data import load_digits

    source = load_digits(dataset, "train", status=status)
    count = min(replay_count(len(train), fraction), len(source))
    pick = np.sort(np.random.default_rng([seed, 1]).choice(len(source), size=count, replace=False))
    images = np.concatenate([train.images, source.images[pick]])
    labels = np.concatenate([train.labels, source.labels[pick].astype(train.labels.dtype)])
    mixed = Digits(images, labels, train.dataset, train.split, train.source, train.notes)
    return mixed, f"replay: {count:,} digits of {source.dataset} mixed into {len(train):,} of your own"
