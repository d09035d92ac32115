"""What ``model.summary()`` shows, as data: layers, output shapes, parameter counts."""

from __future__ import annotations

from typing import Any

from digitkit.errors import PluginError
from digitkit.spec import ModelSpec


def build_checked(spec: ModelSpec) -> Any:
    """Build a spec's model, turning a builder crash into a :class:`PluginError`."""
    try:
        return spec.build()
    except Exception as exc:  # plugin code may raise anything
        raise PluginError(f"model {spec.name!r} failed to build: {type(exc).__name__}: {exc}") from exc


def _shape(layer: Any) -> str:
    try:
        shape = layer.output.shape
    except Exception:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def describe_layers(spec: ModelSpec) -> tuple[list[dict[str, Any]], int]:
    """Build the model and list its layers; returns (layers, total parameter count)."""
    model = build_checked(spec)
    layers = [
        {"name": layer.name, "type": type(layer).__name__, "output_shape": _shape(layer),
         "params": int(layer.count_params())}
        for layer in model.layers
    ]
    return layers, int(model.count_params())
