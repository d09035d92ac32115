"""The conformance kit's quick checks, run on every plugin before digitkit uses it.

:mod:`digitkit.plugins.testing` holds the full kit (build, train, round trip: seconds per model);
these are the checks cheap enough to run at discovery and at build time, and strict enough
that a plugin passing them cannot crash digitkit later: a spec whose metadata is not data,
or a builder returning something that only looks like a Keras model, is refused up front.
"""

from __future__ import annotations

import json
import re
from typing import Any

from digitkit.errors import PluginError
from digitkit.spec import API_VERSION, ModelSpec, api_major

MAX_SUMMARY_CHARS = 200
_CLASS_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")


def quick_spec_problem(spec: ModelSpec) -> str | None:
    """What makes ``spec`` unusable, or ``None``; no Keras needed."""
    version = getattr(spec, "api_version", API_VERSION)
    if api_major(version) != api_major(API_VERSION):
        return (f"written for plugin API {str(version)[:20]!r}, this digitkit speaks {API_VERSION!r} "
                "(update the plugin or digitkit)")
    if not isinstance(spec.summary, str) or "\n" in spec.summary or len(spec.summary) > MAX_SUMMARY_CHARS:
        return f"summary must be one line of at most {MAX_SUMMARY_CHARS} characters"
    if not isinstance(spec.num_classes, int) or isinstance(spec.num_classes, bool) or spec.num_classes < 2:
        return f"num_classes must be an int >= 2, got {spec.num_classes!r}"
    if not isinstance(spec.source, str) or not isinstance(spec.license, str):
        return "source and license must be strings"
    try:
        json.dumps(spec.metadata())
    except (TypeError, ValueError) as exc:
        return f"metadata is not JSON-serialisable: {exc}"
    classes = getattr(spec, "trusted_classes", ())
    if not isinstance(classes, tuple) or not all(isinstance(c, str) and _CLASS_PATH.match(c) for c in classes):
        return "trusted_classes must be a tuple of 'package.module.ClassName' strings"
    return None


def check_is_keras_model(name: str, model: Any) -> None:
    """Refuse a built model that is not a ``keras.Model`` (a duck-typed stand-in).

    Raises:
        PluginError: naming the model and the type its builder returned.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise PluginError(f"model {name!r}: the builder did not return a built Keras model "
                          f"(got {type(model).__module__}.{type(model).__name__})",
                          hint="a builder must return a keras.Model")
