"""A ``.keras`` file's declared layers against the weights it stores, before Keras builds it.

Keras builds every layer ``config.json`` declares before it reads a single weight: a 634 KB
file declaring a 500,000-unit ``Dense`` makes it allocate gigabytes before it notices the
stored kernel does not fit. Here the stored weight shapes are read from the HDF5 file
inside the archive (h5py reads dataset shapes without reading their data) and compared
with what each layer's config implies; the parameter count is capped.

Checked for the layers digit models use (Dense, convolutions, normalisation, Embedding):
the exact weight shapes from the layer's config and declared input shape. For any other
layer that declares ``units`` / ``filters``, a stored weight must end in that size.
"""

from __future__ import annotations

import zipfile
from typing import Any

from digitkit.modelfiles import configwalk
from digitkit._internal.settings import DEFAULT_MAX_PARAMS, MAX_PARAMS_ENV, max_params  # noqa: F401 (re-exported)
from digitkit.errors import ModelRefusedError

WEIGHTS_MEMBER = "model.weights.h5"

Shape = tuple[int, ...]


def stored_shapes(archive: zipfile.ZipFile, where: str) -> dict[str, list[Shape]]:
    """Weight shapes per layer name (in stored order), read without reading weight data."""
    import h5py

    layers: dict[str, list[Shape]] = {}
    try:
        with archive.open(WEIGHTS_MEMBER) as handle, h5py.File(handle, "r") as weights:
            def visit(name: str, obj: Any) -> None:
                if name.split("/", 1)[0] == "optimizer" or not isinstance(obj, h5py.Group):
                    return
                if name.rsplit("/", 1)[-1] == "vars":
                    owner = obj.attrs.get("name", name)
                    owner = owner.decode() if isinstance(owner, bytes) else str(owner)
                    shapes = [tuple(int(d) for d in obj[key].shape) for key in sorted(obj, key=_numeric)
                              if isinstance(obj[key], h5py.Dataset)]
                    layers.setdefault(owner, []).extend(shapes)
            weights.visititems(visit)
    except ModelRefusedError:
        raise
    except Exception as exc:  # h5py raises OSError/KeyError/ValueError for a damaged file
        raise ModelRefusedError(f"{where}: {WEIGHTS_MEMBER} is not a readable weights file ({str(exc)[:160]})") from None
    return layers


def _numeric(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def _is_layer(obj: dict[str, Any]) -> bool:
    """A layer object (nested models included): a class name and a config with a layer name."""
    config = obj.get("config")
    return isinstance(obj.get("class_name"), str) and isinstance(config, dict) and isinstance(config.get("name"), str)


def _input_shape(layer: dict[str, Any]) -> tuple[Any, ...] | None:
    """The input shape a layer's config declares (build config or first inbound tensor)."""
    build = layer.get("build_config")
    if isinstance(build, dict) and isinstance(build.get("input_shape"), list):
        return tuple(build["input_shape"])
    for node in layer.get("inbound_nodes") or []:
        args = node.get("args") if isinstance(node, dict) else None
        for arg in args or []:
            if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
                shape = (arg.get("config") or {}).get("shape")
                if isinstance(shape, list):
                    return tuple(shape)
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _tuple(value: Any, rank: int) -> tuple[int | None, ...]:
    if isinstance(value, int):
        return (value,) * rank
    if isinstance(value, list) and len(value) == rank:
        return tuple(_int(v) for v in value)
    return (None,) * rank


def _channels(config: dict[str, Any], shape: tuple[Any, ...] | None) -> int | None:
    if not shape:
        return None
    axis = 1 if config.get("data_format") == "channels_first" else -1
    return _int(shape[axis]) if len(shape) > 1 else None


def expected_shapes(class_name: str, config: dict[str, Any], shape: tuple[Any, ...] | None) -> list[tuple[int | None, ...]] | None:
    """The weight shapes a known layer builds (``None`` entries: unknown dims); ``None`` if unknown."""
    bias = bool(config.get("use_bias", True))
    if class_name == "Dense":
        units, last = _int(config.get("units")), (_int(shape[-1]) if shape else None)
        return [(last, units)] + ([(units,)] if bias else [])
    rank = {"Conv1D": 1, "Conv2D": 2, "Conv3D": 3, "Conv1DTranspose": 1, "Conv2DTranspose": 2,
            "Conv3DTranspose": 3}.get(class_name)
    if rank is not None:
        filters, channels = _int(config.get("filters")), _channels(config, shape)
        kernel = _tuple(config.get("kernel_size"), rank)
        if class_name.endswith("Transpose"):
            return [(*kernel, filters, channels)] + ([(filters,)] if bias else [])
        groups = _int(config.get("groups")) or 1
        inner = channels // groups if channels is not None else None
        return [(*kernel, inner, filters)] + ([(filters,)] if bias else [])
    if class_name in ("DepthwiseConv1D", "DepthwiseConv2D"):
        rank = 1 if class_name.endswith("1D") else 2
        channels, multiplier = _channels(config, shape), _int(config.get("depth_multiplier")) or 1
        out = channels * multiplier if channels is not None else None
        return [(*_tuple(config.get("kernel_size"), rank), channels, multiplier)] + ([(out,)] if bias else [])
    if class_name in ("BatchNormalization", "LayerNormalization"):
        axis = config.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        size = _int(shape[axis]) if shape and isinstance(axis, int) and -len(shape) <= axis < len(shape) else None
        count = (int(bool(config.get("scale", True))) + int(bool(config.get("center", True))) +
                 (2 if class_name == "BatchNormalization" else 0))
        return [(size,)] * count
    if class_name == "Embedding":
        return [(_int(config.get("input_dim")), _int(config.get("output_dim")))]
    return None


def _matches(expected: list[tuple[int | None, ...]], stored: list[Shape]) -> bool:
    return len(expected) == len(stored) and all(
        len(e) == len(s) and all(d is None or d == t for d, t in zip(e, s)) for e, s in zip(expected, stored))


def _count(shape: tuple[int | None, ...]) -> int:
    total = 1
    for d in shape:
        total *= d if d is not None else 1
    return total


def _text(shapes: list[Any]) -> str:
    return ", ".join("(" + ", ".join("?" if d is None else f"{d:,}" for d in s) + ("," if len(s) == 1 else "") + ")"
                     for s in shapes) or "nothing"


def check_declared_weights(config: dict[str, Any], archive: zipfile.ZipFile, *, where: str) -> int:
    """Refuse a model whose config declares other weights than the file stores, or too many.

    Returns:
        The parameter count stored in the file.

    Raises:
        ModelRefusedError: a layer's declared weights do not match the stored ones, or the
            stored or declared parameter count is over :func:`max_params`.
    """
    limit = max_params()
    stored = stored_shapes(archive, where)
    stored_total = sum(_count(s) for shapes in stored.values() for s in shapes)
    hint = f"digit models have well under a million; raise {MAX_PARAMS_ENV} to load a larger one"
    if stored_total > limit:
        raise ModelRefusedError(f"{where} stores {stored_total:,} parameters, over digitkit's limit of {limit:,}: "
                                "refused", hint=hint)
    declared_total = 0
    for layer in configwalk.objects(config.get("config", config), _is_layer):
        class_name, layer_config = layer["class_name"], layer["config"]
        name = layer_config["name"]
        expected = expected_shapes(class_name, layer_config, _input_shape(layer))
        have = stored.get(name, [])
        if expected is not None:
            declared_total += sum(_count(e) for e in expected)
            if not _matches(expected, have):
                raise ModelRefusedError(
                    f"{where}: layer {name!r} ({class_name}) declares weights {_text(expected)} but the file stores "
                    f"{_text(have)}: refused before building it", hint="the config was edited or does not belong "
                    "to these weights")
            continue
        for key in ("units", "filters"):
            size = _int(layer_config.get(key))
            if size is not None and have and not any(s and s[-1] == size for s in have):
                raise ModelRefusedError(
                    f"{where}: layer {name!r} ({class_name}) declares {key}={size:,} but its stored weights are "
                    f"{_text(have)}: refused before building it")
        declared_total += sum(_count(s) for s in have)
    if declared_total > limit:
        raise ModelRefusedError(f"{where} declares {declared_total:,} parameters, over digitkit's limit of "
                                f"{limit:,}: refused", hint=hint)
    return stored_total
