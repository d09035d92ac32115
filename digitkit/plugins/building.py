"""What ``model.summary()`` shows, as data: layers, output shapes, parameter counts."""

from __future__ import annotations

from typing import Any

from digitkit.errors import PluginError
from digitkit.spec import ModelSpec


def build_checked(spec: ModelSpec, *, check: bool = True, **kwargs: Any) -> Any:
    """Build a spec's model; a builder crash or a model contradicting its spec is a :class:`PluginError`.

    Args:
        spec: the model's spec.
        check: also compare the built model with the spec (:func:`check_built_model`).
        **kwargs: passed to the builder.
    """
    try:
        model = spec.build(**kwargs)
    except PluginError:  # the registry's checked builder has said what went wrong
        raise
    except Exception as exc:  # plugin code may raise anything
        raise PluginError(f"model {spec.name!r} failed to build: {type(exc).__name__}: {exc}") from exc
    if check:
        check_built_model(spec, model)
    return model


def _shape_text(shape: Any) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def check_built_model(spec: ModelSpec, model: Any) -> None:
    """Refuse a built model whose input shape, output shape or parameter count contradicts its spec.

    Training, prediction and export all trust the spec (the data layer shapes digits by
    ``spec.input``), so a plugin that lies must stop here, not as a shape error mid-fit.

    Raises:
        PluginError: naming what the spec declares and what the builder made.
    """
    from digitkit.plugins.checks import check_is_keras_model

    check_is_keras_model(spec.name, model)
    problems = []
    try:
        input_shape, output_shape = model.input_shape, model.output_shape
        params = int(model.count_params())
    except Exception as exc:  # not a built keras.Model at all
        raise PluginError(f"model {spec.name!r}: the builder did not return a built Keras model "
                          f"({type(model).__name__}: {exc})") from exc
    if isinstance(input_shape, list) or tuple(input_shape[1:]) != tuple(spec.input.shape):
        problems.append(f"input {_shape_text(input_shape) if not isinstance(input_shape, list) else input_shape} "
                        f"but the spec says {_shape_text((None, *spec.input.shape))}")
    expected_output = (None, spec.num_classes)
    if isinstance(output_shape, list) or tuple(output_shape) != expected_output:
        problems.append(f"output {_shape_text(output_shape) if not isinstance(output_shape, list) else output_shape} "
                        f"but the spec says {_shape_text(expected_output)}")
    if params != spec.params:
        problems.append(f"{params:,} parameters but the spec says {spec.params:,}")
    if problems:
        raise PluginError(f"model {spec.name!r} contradicts its spec: the built model has {'; '.join(problems)}",
                          hint="fix the plugin's ModelSpec or its builder")


def _shape(layer: Any) -> str:
    try:
        shape = layer.output.shape
    except Exception:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def describe_layers(spec: ModelSpec) -> tuple[list[dict[str, Any]], int]:
    """Build the model, check it against its spec, and list its layers.

    Returns:
        (layers, total parameter count).

    Raises:
        PluginError: the builder crashed or built a model that contradicts the spec.
    """
    model = build_checked(spec)
    layers = [
        {"name": layer.name, "type": type(layer).__name__, "output_shape": _shape(layer),
         "params": int(layer.count_params())}
        for layer in model.layers
    ]
    return layers, int(model.count_params())
