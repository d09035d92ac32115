"""One way to compile a model for its recipe, shared by fit, benchmarks, fixtures and plugins."""

from __future__ import annotations

from typing import Any

from digitkit.spec import ModelSpec, Recipe


def loss_and_metric(recipe: Recipe) -> tuple[Any, Any]:
    """The recipe's loss and an accuracy metric named ``accuracy`` (whatever the encoding)."""
    import keras

    if recipe.label_encoding == "one-hot":
        return (keras.losses.CategoricalCrossentropy(from_logits=recipe.from_logits),
                keras.metrics.CategoricalAccuracy(name="accuracy"))
    return (keras.losses.SparseCategoricalCrossentropy(from_logits=recipe.from_logits),
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"))


def compile_for(spec: ModelSpec, recipe: Recipe | None = None, *, model: Any = None,
                steps_per_execution: int = 1, jit_compile: bool = False, steps_per_epoch: int | None = None) -> Any:
    """Build (unless ``model`` is given) and compile a model as its recipe says.

    Args:
        spec: the model's spec; ``spec.build()`` makes the model when ``model`` is None.
        recipe: the recipe to follow (default ``spec.recipe``): optimizer, learning rate,
            loss and label encoding.
        model: an already built model of this spec (e.g. built inside a strategy scope).
        steps_per_execution: batches per call into the TensorFlow runtime.
        jit_compile: XLA (off: it made the cnn 5x slower on CPU).
        steps_per_epoch: optimizer steps in one epoch; a recipe with a learning-rate schedule
            (``Recipe.schedule``) spreads it over ``epochs * steps_per_epoch``. Without it the
            recipe's rate is used as a constant.

    Returns:
        The compiled model, its optimizer built (so saved state holds every slot).
    """
    import keras

    recipe = recipe or spec.recipe
    model = model if model is not None else spec.build()
    from digitkit.training import schedule

    rate = schedule.learning_rate(recipe, steps_per_epoch) if steps_per_epoch else recipe.learning_rate
    optimizer = keras.optimizers.get({"class_name": recipe.optimizer, "config": {"learning_rate": rate}})
    loss, metric = loss_and_metric(recipe)
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric], steps_per_execution=steps_per_execution,
                  jit_compile=jit_compile)
    model.optimizer.build(model.trainable_variables)
    return model
