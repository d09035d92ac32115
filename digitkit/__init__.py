"""digitkit: handwritten-digit recognition with a plugin model zoo.

The library is the product; the ``digitkit`` command is a thin shell over it. Names are
imported on first use, so ``import digitkit`` stays light (no TensorFlow).

    >>> import digitkit
    >>> [m.spec.name for m in digitkit.list_models("dense*")]
    ['dense-relu-dropout', 'dense-sigmoid']

The verbs are the functions themselves: ``digitkit.predict(paths, model=...)``,
``digitkit.evaluate(model)``, ``digitkit.export(model, "litert")``, ``digitkit.fit(name)``;
``digitkit.load(model)`` returns a :class:`~digitkit.inference.Predictor`. Their modules are
named apart (``digitkit.inference.batch``, ``digitkit.evaluation``, ``digitkit.exporting``) so
importing a module never hides a verb.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) is noise for a CLI user; set
# before anything imports TensorFlow. A user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

_PUBLIC = {
    # registry and specs
    "list_models": "digitkit.plugins.registry:list_models",
    "get_model": "digitkit.plugins.registry:get_model",
    "get_spec": "digitkit.plugins.registry:get_spec",
    "ModelSpec": "digitkit.spec:ModelSpec",
    "Recipe": "digitkit.spec:Recipe",
    "InputSpec": "digitkit.spec:InputSpec",
    # errors
    "DigitkitError": "digitkit.errors:DigitkitError",
    # data
    "load_digits": "digitkit.data:load_digits",
    # runs
    "list_runs": "digitkit.runs:list_runs",
    "get_run": "digitkit.runs:get_run",
    "resolve_model": "digitkit.inference.refs:resolve",
    # commands' logic, by verb; no module of the package bears these names, so importing a
    # submodule never replaces the function
    "fit": "digitkit.training:fit",
    "load": "digitkit.inference:load",
    "Predictor": "digitkit.inference:Predictor",
    "predict": "digitkit.inference.batch:predict",
    "read": "digitkit.reading:read",
    "evaluate": "digitkit.evaluation:evaluate",
    "evaluate_numbers": "digitkit.evaluation:evaluate_numbers",
    "export": "digitkit.exporting:export",
    "build_report": "digitkit.report:build_report",
    "run_bench": "digitkit.bench:bench",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _PUBLIC[name].split(":")
    except KeyError:
        raise AttributeError(f"module 'digitkit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
