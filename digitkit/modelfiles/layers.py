"""A saved model's layer table (name, type, output shape, parameters) without TensorFlow.

`digitkit show-model cnn` built the model with Keras to print its layers: about 30 s of
silence on a loaded machine, for a table that a saved ``.keras`` file already describes.
Its ``config.json`` names each layer and the shape of every tensor passed between layers;
its weights file stores each layer's weight shapes (read without reading the data, as the
gate does). The file goes through the same gate as any model file
(:func:`digitkit.modelfiles.keras_file.check_archive`) first.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from digitkit.modelfiles import configwalk


def _shape_text(shape: Any) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _tensor_shapes(layers: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Output shape of each layer, as the layers consuming it declare their inputs."""
    shapes: dict[str, list[Any]] = {}
    for layer in layers:
        for tensor in configwalk.objects(layer.get("inbound_nodes") or [],
                                         lambda obj: obj.get("class_name") == "__keras_tensor__"):
            config = tensor.get("config") or {}
            history = config.get("keras_history")
            if isinstance(history, list) and history and isinstance(config.get("shape"), list):
                shapes.setdefault(str(history[0]), config["shape"])
    return shapes


# Layers that own no weights: their parameter count is 0 without reading the weights file.
WEIGHTLESS = frozenset({
    "InputLayer", "Flatten", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
    "Activation", "ReLU", "LeakyReLU", "Softmax", "ELU", "Reshape", "Permute", "RepeatVector", "Rescaling",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D", "Add", "Concatenate",
    "RandomRotation", "RandomTranslation", "RandomZoom", "RandomFlip", "RandomContrast", "RandomCrop",
})


def _declared_params(layer: dict[str, Any]) -> int | None:
    """Parameters a layer's config implies (no weights read), or ``None`` when it cannot tell."""
    from digitkit.modelfiles.weights import _count, _input_shape, expected_shapes

    if layer["class_name"] in WEIGHTLESS:
        return 0
    expected = expected_shapes(layer["class_name"], layer["config"], _input_shape(layer))
    if expected is None or any(d is None for shape in expected for d in shape):
        return None
    return sum(_count(shape) for shape in expected)


def _read(path: Path) -> dict[str, Any]:
    """``config.json`` of a ``.keras`` file, through the gate's own checks of path, bytes and members."""
    from digitkit.errors import ModelRefusedError
    from digitkit.modelfiles import keras_file

    keras_file._check_path(path)
    keras_file._check_bytes(path)
    try:
        with zipfile.ZipFile(path) as archive:
            keras_file._check_members(path, archive)
            return keras_file._read_config(path, archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ModelRefusedError(f"{path.name} is a damaged .keras archive: {str(exc)[:200]}") from exc


def saved_layers(path: str | Path, num_classes: int) -> tuple[list[dict[str, Any]], int]:
    """(layers, total parameters) of a saved ``.keras`` model, the rows ``describe_layers`` gives.

    Nothing is deserialised: the config is read as JSON; parameter counts come from each
    layer's config (Dense, convolutions, normalisation...) and, for a layer that does not
    say, from the weight shapes stored in the file (h5py, ~0.3 s more).

    Args:
        path: a ``.keras`` file (a run's ``model.keras`` or shipped weights).
        num_classes: the model's number of outputs (the last layer's shape is not declared
            as anyone's input).

    Raises:
        ModelRefusedError: the file is refused by the gate, or does not list its layers.
    """
    from digitkit.errors import ModelRefusedError
    from digitkit.modelfiles.weights import _count, _is_layer, stored_shapes

    path = Path(path)
    config = _read(path)
    layers = (config.get("config") or {}).get("layers")
    if not isinstance(layers, list) or not all(isinstance(layer, dict) and _is_layer(layer) for layer in layers):
        raise ModelRefusedError(f"{path.name}: config.json lists no layers")
    declared = [_declared_params(layer) for layer in layers]
    stored = None
    if any(count is None for count in declared):
        with zipfile.ZipFile(path) as archive:
            stored = stored_shapes(archive, path.name)
    shapes = _tensor_shapes(layers)
    rows = []
    for layer, count in zip(layers, declared):
        name = layer["config"]["name"]
        if layer["class_name"] == "InputLayer":
            shape = layer["config"].get("batch_shape") or layer["config"].get("batch_input_shape")
        else:
            shape = shapes.get(name) or [None, num_classes]  # consumed by no layer: the model's output
        if count is None:
            owned = {inner["config"]["name"] for inner in configwalk.objects(layer, _is_layer)}
            count = sum(_count(s) for owner in owned for s in stored.get(owner, []))
        rows.append({"name": name, "type": layer["class_name"], "output_shape": _shape_text(shape or []),
                     "params": int(count)})
    return rows, sum(row["params"] for row in rows)


def saved_model_file(spec: Any) -> Any:
    """A saved ``.keras`` file of this model: its latest completed run's, else its shipped weights'."""
    from digitkit import pretrained
    from digitkit.runs.listing import latest_run_of

    try:
        run = latest_run_of(spec.name)
    except Exception:  # noqa: BLE001 - an unreadable home only means: no run to read from
        run = None
    if run is not None:
        return run.model_path
    return pretrained.path(spec.name, "keras")


def layer_table(spec: Any, *, building: Any = None) -> tuple[list[dict[str, Any]], int, Any]:
    """The model's layers, read from a saved file when there is one, else built with Keras.

    Reading ``config.json`` and the weight shapes of a run's or the shipped ``.keras`` takes
    well under a second without TensorFlow; building imports TensorFlow (5-30 s).

    Args:
        spec: the model's spec.
        building: called before the model is built (a CLI shows a spinner from there).

    Returns:
        (layers, total parameter count, the file they were read from or ``None`` when built).
    """
    from digitkit.errors import DigitkitError
    from digitkit.plugins.building import describe_layers

    saved = saved_model_file(spec)
    if saved is not None:
        try:
            layers, total = saved_layers(saved, spec.num_classes)
            return layers, total, saved
        except DigitkitError:  # a damaged or refused file: the builder still knows the layers
            pass
    if building is not None:
        building()
    layers, total = describe_layers(spec)
    return layers, total, None
