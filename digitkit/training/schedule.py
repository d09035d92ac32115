"""The learning rate a recipe asks for: a number, or a Keras schedule over the planned steps."""

from __future__ import annotations

from typing import Any

from digitkit.spec import Recipe

# Cosine decay ends at this share of the initial rate rather than 0, so the last epoch still learns.
COSINE_FLOOR = 0.01


def learning_rate(recipe: Recipe, steps_per_epoch: int) -> Any:
    """The optimizer's ``learning_rate`` for ``recipe``.

    Args:
        recipe: the training recipe (``learning_rate``, ``schedule``, ``epochs``).
        steps_per_epoch: optimizer steps in one epoch.

    Returns:
        A float for ``"constant"``, a ``keras.optimizers.schedules.CosineDecay`` for ``"cosine"``
        (decaying over ``epochs * steps_per_epoch`` steps; the optimizer's step counter is saved
        with its state, so a resumed run continues on the same curve).
    """
    if recipe.schedule == "constant":
        return recipe.learning_rate
    import keras

    total = max(int(recipe.epochs) * max(int(steps_per_epoch), 1), 1)
    return keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=total, alpha=COSINE_FLOOR)
