"""TensorFlow set up for one fit: threads, seeds, devices, and the compiled model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from digitkit.errors import PluginError
from digitkit.spec import ModelSpec
from digitkit.training.config import FitConfig


@dataclass
class Runtime:
    """Where and how a fit runs: placement, speed settings, notes for the user."""

    placement: Any  # digitkit.training.distribute.Placement
    notes: list[str]


def start(config: FitConfig) -> Runtime:
    """Import TensorFlow, set threads and seeds, choose devices.

    Raises:
        UnavailableError / UsageError: hardware asked for that is not here.
    """
    from digitkit.training import speed

    speed.prefer_onednn(tuple(config.spec.input.shape))
    import tensorflow as tf

    from digitkit.training import distribute

    notes = []
    has_gpu = bool(tf.config.list_physical_devices("GPU"))
    dense_guess = speed.likely_dense(config.spec.input.shape) and not has_gpu
    if not speed.apply_threading(1 if dense_guess else None):
        notes.append("TensorFlow had already started: thread settings left as they were")
    placement = distribute.choose_placement(gpu=config.gpu, devices=config.devices,
                                            mixed_precision=config.mixed_precision)
    speed.seed_everything(config.seed, deterministic=config.deterministic)
    return Runtime(placement, notes)


def build_model(config: FitConfig, runtime: Runtime, steps_per_epoch: int) -> tuple[Any, Any]:
    """The compiled model (optimizer built) and its speed settings, inside the strategy's scope."""
    import keras

    from digitkit.training import speed
    from digitkit.training.compile import compile_for

    placement = runtime.placement
    policy = keras.mixed_precision.global_policy().name
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with placement.strategy.scope():
            model = config.spec.build()
            check_model(config.spec, model)
            if config.finetune is not None:  # before compiling: Keras reads `trainable` then
                from digitkit.training.finetune import load_parent

                load_parent(model, config)
            settings = speed.choose_settings(model, on_gpu=placement.on_gpu, steps_per_epoch=steps_per_epoch,
                                             distributed=placement.kind != "default")
            compile_for(config.spec, config.recipe, model=model, steps_per_execution=settings.steps_per_execution,
                        jit_compile=settings.jit_compile, steps_per_epoch=steps_per_epoch)
    finally:
        keras.mixed_precision.set_global_policy(policy)
    return model, settings


def check_model(spec: ModelSpec, model: Any) -> None:
    """The built model must take the declared input and give one score per declared class.

    Raises:
        PluginError: a model that disagrees with its own spec (refused before training).
    """
    import keras

    if not isinstance(model, keras.Model):
        raise PluginError(f"model {spec.name!r}: build() returned {type(model).__name__}, not a keras.Model")
    try:
        inputs = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else None
        outputs = tuple(model.outputs[0].shape[1:]) if len(model.outputs) == 1 else None
    except (AttributeError, TypeError, ValueError):  # a subclassed model: ask it
        inputs, outputs = _probe(model, spec)
    if inputs != tuple(spec.input.shape):
        raise PluginError(f"model {spec.name!r} takes input {inputs}, but its spec declares {tuple(spec.input.shape)}")
    if outputs != (spec.num_classes,):
        raise PluginError(f"model {spec.name!r} gives output {outputs}, but its spec declares "
                          f"({spec.num_classes},) for num_classes={spec.num_classes}")


def _probe(model: Any, spec: ModelSpec) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
    import numpy as np

    try:
        result = model(np.zeros((1, *spec.input.shape), np.float32), training=False)
        return tuple(spec.input.shape), tuple(result.shape[1:])
    except Exception:  # any failure means the model does not take the declared input
        return None, None
