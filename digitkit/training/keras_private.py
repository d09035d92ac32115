"""The few private Keras calls digitkit makes, in one place, each guarded.

Keras' private API changes without notice between minor versions. Each use here says why
no public API does the job, and :data:`CHECKED_KERAS` lists the Keras minor versions the
multi-worker workaround was checked on: on any other, multi-worker training is refused in
one line instead of silently patching a Keras it was never checked against. Everything
else falls back to public API when the private one is missing.
"""

from __future__ import annotations

from typing import Any, Iterator

from digitkit.errors import UnavailableError

# Keras minor versions the multi-worker metric workaround below was checked on.
CHECKED_KERAS = ("3.15",)


def keras_minor() -> str:
    """The installed Keras' ``MAJOR.MINOR``."""
    import keras

    return ".".join(keras.__version__.split(".")[:2])


def require_checked_keras(what: str) -> None:
    """Refuse ``what`` on a Keras minor version the workaround was not checked on.

    Raises:
        UnavailableError: one line naming the installed and the checked versions.
    """
    minor = keras_minor()
    if minor not in CHECKED_KERAS:
        raise UnavailableError(f"{what} is checked on Keras {', '.join(CHECKED_KERAS)} only; this is Keras {minor}",
                               hint=f'pip install "keras>={CHECKED_KERAS[-1]},<{_next(CHECKED_KERAS[-1])}"')


def _next(minor: str) -> str:
    major, low = minor.split(".")
    return f"{major}.{int(low) + 1}"


def all_layers(model: Any) -> Iterator[Any]:
    """Every layer inside ``model``, nested models' layers included, without the model itself.

    ``Model._flatten_layers`` is what Keras itself uses; when a Keras lacks it, the public
    ``layers`` attribute is walked instead (the same layers for the zoo's models).
    """
    flatten = getattr(model, "_flatten_layers", None)
    if callable(flatten):
        try:
            yield from flatten(include_self=False)
            return
        except TypeError:  # a different private signature: use the public walk
            pass
    stack = list(getattr(model, "layers", []))[::-1]
    while stack:
        layer = stack.pop()
        yield layer
        stack.extend(list(getattr(layer, "layers", []))[::-1])


def prebuild_metrics(model: Any, batch: Any) -> None:
    """Build the model's metrics from a local batch, so Keras does not have to.

    Keras 3.15's ``fit`` builds them from the first *distributed* batch through
    ``strategy.reduce("MEAN", ...)``, which ``MultiWorkerMirroredStrategy`` cannot do with
    per-replica values ("Attempt to convert a value (PerReplica...) to a Tensor"). Building
    first, from a plain batch, and skipping that step is the same build without the reduce.
    """
    require_checked_keras("multi-worker training (TF_CONFIG)")
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    _patch_metric_reduction()


def _patch_metric_reduction() -> None:
    """Keras 3.15 averages per-replica metric values across workers with
    ``strategy.reduce("MEAN", v, axis=0)``, which fails on the scalar values every metric
    gives ("Invalid reduction dimension 0 for input with 0 dimensions"). A scalar's mean
    across replicas is ``axis=None``; everything else goes to Keras unchanged. Applied only
    in multi-worker processes."""
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica
    if getattr(original, "digitkit_patched", False):
        return

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        import tensorflow as tf

        if reduction in ("auto", "mean") and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            def mean(value: Any) -> Any:
                if isinstance(value, tf.distribute.DistributedValues) or tf.is_tensor(value):
                    return strategy.reduce("MEAN", value, axis=None)
                return value

            return tf.nest.map_structure(mean, values)
        return original(values, strategy, reduction)

    reduce_per_replica.digitkit_patched = True  # type: ignore[attr-defined]
    trainer.reduce_per_replica = reduce_per_replica


