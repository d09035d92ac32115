"""A conformance kit for model plugins: the checks digitkit runs on its own zoo.

Use it from a plugin's tests::

    from digitkit.plugins.testing import assert_conforms
    from my_plugin.model import SPEC

    def test_conforms():
        assert_conforms(SPEC)

or parametrised over several specs (one test per spec, like timm's ``test_models.py``)::

    import pytest
    from digitkit.plugins.testing import assert_conforms, conformance_params

    @pytest.mark.parametrize("spec", conformance_params([SPEC_A, SPEC_B]))
    def test_conforms(spec):
        assert_conforms(spec)

:func:`check_spec` returns one :class:`CheckResult` per check instead of raising, for tools
(``digitkit plugins check`` renders them as a table). Importing this module does not import
TensorFlow; the checks that need Keras import it when they run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from digitkit.spec import ModelSpec

HEAVY_MODULES = ("tensorflow", "keras", "tensorflow_datasets")
MAX_SUMMARY_CHARS = 120
BATCH = 16
TRAIN_STEPS = 12
IMPORT_TIMEOUT_S = 120

# Each check: name, what it verifies (shown by `digitkit plugins check` and in failures).
CHECKS: tuple[tuple[str, str], ...] = (
    ("metadata", "metadata complete and JSON-ready; recipe matches the output kind"),
    ("light-import", "importing the spec's module does not import TensorFlow/Keras"),
    ("builds", "the builder returns a keras.Model"),
    ("input-shape", "model input shape equals the spec's input shape"),
    ("output-shape", "model output shape is (num_classes,)"),
    ("params", "parameter count equals spec.params"),
    ("finite", "outputs are finite"),
    ("output-kind", "outputs are logits or probabilities, as declared"),
    ("round-trip", "save/load (.keras, safe mode) gives the same outputs"),
    ("trains", "a few training steps with the recipe lower the loss"),
)
CHECK_NAMES = tuple(name for name, _ in CHECKS)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one spec.

    Attributes:
        model: the spec's name.
        check: the check's name (one of :data:`CHECK_NAMES`).
        status: ``"pass"``, ``"fail"`` or ``"skip"`` (skipped because an earlier check failed).
        detail: what was found; for a failure, what to change.
    """

    model: str
    check: str
    status: str
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def to_dict(self) -> dict[str, str]:
        return {"model": self.model, "check": self.check, "status": self.status, "detail": self.detail}


class CheckFailed(Exception):
    """Raised inside a check to fail it with a message for the plugin author."""


# ---------------------------------------------------------------------------------------------
# Checks that need no Keras


def _check_metadata(spec: ModelSpec) -> str:
    problems = []
    if "\n" in spec.summary or len(spec.summary) > MAX_SUMMARY_CHARS:
        problems.append(f"summary must be one line of at most {MAX_SUMMARY_CHARS} characters")
    if not spec.source.strip():
        problems.append("source is empty: say where the architecture comes from")
    if not spec.license.strip():
        problems.append("license is empty")
    if not isinstance(spec.num_classes, int) or spec.num_classes < 2:
        problems.append(f"num_classes must be an int >= 2, got {spec.num_classes!r}")
    wants_logits = spec.output == "logits"
    if spec.recipe.from_logits != wants_logits:
        problems.append(
            f"output={spec.output!r} but recipe.from_logits={spec.recipe.from_logits}: "
            f"set from_logits={wants_logits}"
        )
    try:
        json.dumps(spec.metadata())
    except (TypeError, ValueError) as exc:
        problems.append(f"metadata is not JSON-serialisable: {exc}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"{spec.input.describe()} -> {spec.num_classes} {spec.output}, {spec.params:,} params"


_IMPORT_PROBE = """
import importlib, json, sys
module = sys.argv[1]
try:
    importlib.import_module(module)
except BaseException as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    raise SystemExit(0)
heavy = [name for name in sys.argv[2:] if name in sys.modules]
print(json.dumps({"heavy": heavy}))
"""


def spec_module(spec: ModelSpec) -> str | None:
    """The module a spec's entry point names, or failing that the builder's module."""
    from digitkit.plugins import registry

    for registered in registry.get_registry().models.values():
        if registered.spec is spec:
            return registered.entry_point.partition(":")[0].strip()
    module = getattr(spec.builder, "__module__", None)
    return module if module and module != "__main__" else None


def check_light_import(module: str) -> str:
    """Import ``module`` in a fresh interpreter; fail if TensorFlow or Keras came with it.

    The subprocess sees this process's ``sys.path``, so modules added by tests are found.

    Raises:
        CheckFailed: the import fails, or pulls in a heavy module.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    try:
        completed = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE, module, *HEAVY_MODULES],
            capture_output=True, text=True, env=env, timeout=IMPORT_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"importing {module} took over {IMPORT_TIMEOUT_S} s") from exc
    lines = completed.stdout.strip().splitlines()
    if not lines:
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise CheckFailed(f"importing {module} crashed the interpreter: {tail[0]}")
    probe = json.loads(lines[-1])
    if "error" in probe:
        raise CheckFailed(f"importing {module} failed: {probe['error']}")
    if probe["heavy"]:
        raise CheckFailed(
            f"importing {module} imports {', '.join(probe['heavy'])}: move `import keras` "
            f"(and TensorFlow) inside the builder so `digitkit list-models` stays instant"
        )
    return f"import {module}: no TensorFlow/Keras"


# ---------------------------------------------------------------------------------------------
# Checks on the built model


def probe_digits(spec: ModelSpec, count: int = BATCH, seed: int = 0) -> tuple[Any, Any]:
    """Synthetic, learnable digits shaped for ``spec``: class k is a bar at a k-dependent place.

    Returns:
        ``(x, labels)``: float32 inputs adapted to ``spec.input``, int64 labels.
    """
    import numpy as np

    from digitkit.data.adapt import adapt_images

    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % spec.num_classes
    images = rng.integers(0, 40, size=(count, 28, 28)).astype(np.uint8)
    for i, label in enumerate(labels):
        row = 2 + int(label) * 24 // max(spec.num_classes, 1)
        images[i, row:row + 3, 4:24] = 255
    return adapt_images(images, spec.input), labels


def _check_builds(spec: ModelSpec, state: dict[str, Any]) -> str:
    import keras

    try:
        model = spec.build()
    except Exception as exc:  # a plugin's builder may raise anything
        raise CheckFailed(f"builder raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, keras.Model):
        raise CheckFailed(f"builder returned {type(model).__name__}, expected a keras.Model")
    state["model"] = model
    return f"{type(model).__name__} {model.name!r}"


def _check_input_shape(spec: ModelSpec, state: dict[str, Any]) -> str:
    model = state["model"]
    if len(model.inputs) != 1:
        raise CheckFailed(f"expected one input, the model has {len(model.inputs)}")
    shape = tuple(model.inputs[0].shape[1:])
    if shape != tuple(spec.input.shape):
        raise CheckFailed(f"spec says input shape {tuple(spec.input.shape)}, the model takes {shape}")
    return f"{shape}"


def _check_output_shape(spec: ModelSpec, state: dict[str, Any]) -> str:
    model = state["model"]
    if len(model.outputs) != 1:
        raise CheckFailed(f"expected one output, the model has {len(model.outputs)}")
    shape = tuple(model.outputs[0].shape[1:])
    if shape != (spec.num_classes,):
        raise CheckFailed(f"expected output shape ({spec.num_classes},) for num_classes={spec.num_classes}, "
                          f"the model gives {shape}")
    return f"{shape}"


def _check_params(spec: ModelSpec, state: dict[str, Any]) -> str:
    actual = int(state["model"].count_params())
    if actual != spec.params:
        raise CheckFailed(f"spec says params={spec.params:,}, the built model has {actual:,}: set params={actual}")
    return f"{actual:,}"


def _check_finite(spec: ModelSpec, state: dict[str, Any]) -> str:
    import numpy as np

    from digitkit.errors import ModelRefusedError
    from digitkit.inference.outputs import NUM_CLASSES, check_outputs

    x, _ = probe_digits(spec)
    outputs = np.asarray(state["model"].predict(x, verbose=0))
    state["x"], state["outputs"] = x, outputs
    if spec.num_classes == NUM_CLASSES:  # the same check digitkit applies when it runs the model
        try:
            check_outputs(outputs, len(x), where=spec.name)
        except ModelRefusedError as exc:
            raise CheckFailed(f"{exc.message} (a NaN row silently predicts class 0)") from None
        return f"{len(x)} samples"
    bad = int(np.size(outputs) - np.isfinite(outputs).sum())
    if bad:
        raise CheckFailed(f"{bad} of {outputs.size} output values are NaN or infinite "
                          f"(a NaN row silently predicts class 0)")
    return f"{len(x)} samples"


def _check_output_kind(spec: ModelSpec, state: dict[str, Any]) -> str:
    import numpy as np

    outputs = state["outputs"].astype(np.float64)
    sums = outputs.sum(axis=1)
    in_range = bool(((outputs >= -1e-6) & (outputs <= 1 + 1e-6)).all())
    rows_sum_to_one = bool(np.allclose(sums, 1.0, atol=1e-3))
    if spec.output == "probabilities":
        if not in_range or not rows_sum_to_one:
            raise CheckFailed(
                f"declared probabilities, but outputs range over [{outputs.min():.3g}, {outputs.max():.3g}] "
                f"and rows sum to {sums.min():.3g}..{sums.max():.3g}: end with a softmax, "
                f"or declare output='logits'"
            )
        return "rows in [0, 1], summing to 1"
    if in_range and rows_sum_to_one:
        raise CheckFailed("declared logits, but every row is a probability distribution (summing to 1): "
                          "remove the final softmax, or declare output='probabilities'")
    return f"unnormalised (row sums {sums.min():.3g}..{sums.max():.3g})"


def _check_round_trip(spec: ModelSpec, state: dict[str, Any]) -> str:
    import numpy as np

    from digitkit.errors import DigitkitError
    from digitkit.inference import load
    from digitkit.inference.outputs import NUM_CLASSES, to_probabilities
    from digitkit.modelfiles.keras_file import load_model, save_model

    with tempfile.TemporaryDirectory(prefix="digitkit-conformance-") as folder:
        path = Path(folder) / f"{spec.name}.keras"
        try:
            save_model(state["model"], path)
        except Exception as exc:
            raise CheckFailed(f"saving failed: {type(exc).__name__}: {exc}") from exc
        try:
            if spec.num_classes == NUM_CLASSES:  # through the Predictor, as predict/evaluate load it
                predictor = load(str(path), backend="keras")
                again = predictor.predict_shaped(state["x"])
                expected = to_probabilities(state["outputs"], predictor.output, where=spec.name)
            else:
                again = np.asarray(load_model(path).predict(state["x"], verbose=0))
                expected = state["outputs"]
        except DigitkitError as exc:
            raise CheckFailed(f"loading in safe mode failed: {exc.message} (custom layers must be "
                              f"registered with @keras.saving.register_keras_serializable)") from exc
        size = path.stat().st_size
    if again.shape != expected.shape or not np.allclose(again, expected, atol=1e-5, rtol=1e-4):
        diff = float(np.max(np.abs(again - expected))) if again.shape == expected.shape else None
        raise CheckFailed(f"the reloaded model gives different outputs (max difference {diff})")
    return f"{size / 1024:.0f} KiB .keras, same outputs"


def _check_trains(spec: ModelSpec, state: dict[str, Any]) -> str:
    import keras
    import numpy as np

    from digitkit.data.adapt import encode_labels

    recipe = spec.recipe
    keras.utils.set_random_seed(0)
    model = spec.build()
    x, labels = probe_digits(spec, count=32, seed=1)
    y = encode_labels(labels, recipe.label_encoding, spec.num_classes)
    loss = {"sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
            "categorical_crossentropy": keras.losses.CategoricalCrossentropy}[recipe.loss]
    optimizer = keras.optimizers.get({"class_name": recipe.optimizer,
                                      "config": {"learning_rate": recipe.learning_rate}})
    model.compile(optimizer=optimizer, loss=loss(from_logits=recipe.from_logits))
    # One full batch per epoch, so each history entry is the training loss of one step.
    history = model.fit(x, y, batch_size=len(x), epochs=TRAIN_STEPS, shuffle=False, verbose=0)
    losses = [float(v) for v in history.history["loss"]]
    if not all(np.isfinite(losses)):
        raise CheckFailed(f"the loss became NaN or infinite: {', '.join(f'{v:.3g}' for v in losses)}")
    first, last = losses[0], float(np.mean(losses[-3:]))
    if not last < first:
        raise CheckFailed(f"{TRAIN_STEPS} steps with the recipe did not lower the loss "
                          f"({first:.4f} -> {last:.4f}); check the recipe's loss and from_logits")
    return f"loss {first:.3f} -> {last:.3f} in {TRAIN_STEPS} steps"


_MODEL_CHECKS: dict[str, Callable[[ModelSpec, dict[str, Any]], str]] = {
    "builds": _check_builds,
    "input-shape": _check_input_shape,
    "output-shape": _check_output_shape,
    "params": _check_params,
    "finite": _check_finite,
    "output-kind": _check_output_kind,
    "round-trip": _check_round_trip,
    "trains": _check_trains,
}
# A failed check makes the checks that need its result pointless.
_NEEDS = {
    "input-shape": "builds", "output-shape": "builds", "params": "builds", "finite": "builds",
    "output-kind": "finite", "round-trip": "finite", "trains": "builds",
}


def check_spec(
    spec: ModelSpec,
    *,
    module: str | None = None,
    checks: Iterable[str] | None = None,
) -> list[CheckResult]:
    """Run the conformance checks on one spec; never raises for a non-conforming plugin.

    Args:
        spec: the spec to check.
        module: the module its entry point names, for the light-import check; by default
            found through the registry, else the builder's module.
        checks: names of the checks to run (default: all of :data:`CHECK_NAMES`).

    Returns:
        One :class:`CheckResult` per check, in :data:`CHECKS` order.
    """
    wanted = list(CHECK_NAMES if checks is None else checks)
    unknown = [c for c in wanted if c not in CHECK_NAMES]
    if unknown:
        raise ValueError(f"expected checks among {CHECK_NAMES}. Received: checks={unknown}")
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"expected a digitkit.spec.ModelSpec. Received: spec={spec!r}")
    results: dict[str, CheckResult] = {}
    state: dict[str, Any] = {}
    for name in CHECK_NAMES:
        if name not in wanted:
            continue
        needed = _NEEDS.get(name)
        if needed and needed in results and not results[needed].passed:
            results[name] = CheckResult(spec.name, name, "skip", f"needs {needed!r} to pass")
            continue
        results[name] = _run_one(spec, name, state, module)
    return [results[name] for name in CHECK_NAMES if name in results]


def _run_one(spec: ModelSpec, name: str, state: dict[str, Any], module: str | None) -> CheckResult:
    try:
        if name == "metadata":
            detail = _check_metadata(spec)
        elif name == "light-import":
            target = module or spec_module(spec)
            if target is None:
                return CheckResult(spec.name, name, "skip", "no importable module (pass module=...)")
            detail = check_light_import(target)
        else:
            if name != "builds" and "model" not in state:
                _check_builds(spec, state)
            if name in ("output-kind", "round-trip") and "outputs" not in state:
                _check_finite(spec, state)
            detail = _MODEL_CHECKS[name](spec, state)
    except CheckFailed as exc:
        return CheckResult(spec.name, name, "fail", str(exc))
    except Exception as exc:  # an unexpected error in a plugin's model is a failed check too
        return CheckResult(spec.name, name, "fail", f"{type(exc).__name__}: {exc}")
    return CheckResult(spec.name, name, "pass", detail)


def check_model(name: str, *, checks: Iterable[str] | None = None) -> list[CheckResult]:
    """Run the checks on a registered model (built-in or plugin) by name.

    A model whose entry point is broken yields one failed ``metadata`` result with the
    registry's error, instead of raising.

    Raises:
        UnknownModelError: no model or broken entry point has that name.
    """
    from digitkit.plugins import registry

    reg = registry.get_registry()
    if name not in reg.models:
        broken = [b for b in reg.broken if b.name == name]
        if broken:
            return [CheckResult(name, "metadata", "fail", f"entry point {broken[0].entry_point}: {broken[0].error}")]
        registry.get_model(name)  # raises UnknownModelError with suggestions
    registered = reg.models[name]
    return check_spec(registered.spec, module=registered.entry_point.partition(":")[0].strip(), checks=checks)


def format_failures(results: Sequence[CheckResult]) -> str:
    """The failed checks, one per line, for an assertion message."""
    return "\n".join(f"  {r.check}: {r.detail}" for r in results if r.failed)


def assert_conforms(spec: ModelSpec | str, **kwargs: Any) -> list[CheckResult]:
    """Assert that a spec (or a registered model's name) passes every check; for pytest.

    Args:
        spec: a :class:`ModelSpec`, or the name of a registered model.
        **kwargs: passed to :func:`check_spec` (``module``, ``checks``).

    Returns:
        The results, when all passed.

    Raises:
        AssertionError: listing every failed check and what to change.
    """
    results = check_model(spec, **kwargs) if isinstance(spec, str) else check_spec(spec, **kwargs)
    failed = [r for r in results if r.failed]
    if failed:
        model = results[0].model if results else spec
        raise AssertionError(f"model {model!r} fails {len(failed)} conformance check(s):\n{format_failures(results)}")
    return results


def conformance_params(specs: Iterable[ModelSpec | str]) -> list[Any]:
    """``pytest.param`` objects with readable ids, for ``@pytest.mark.parametrize("spec", ...)``."""
    import pytest

    params = []
    for spec in specs:
        label = spec if isinstance(spec, str) else spec.name
        params.append(pytest.param(spec, id=label))
    return params


def check_installed(
    name: str | None = None,
    *,
    builtins: bool = False,
    on_model: Callable[[str], None] | None = None,
) -> dict[str, list[CheckResult]]:
    """Run the checks on installed models, as ``digitkit plugins check`` does.

    Args:
        name: one model's name; by default every model that a plugin provides, and every
            broken plugin entry point.
        builtins: with no ``name``, check the built-in zoo too.
        on_model: called with each model's name before it is checked (progress display).

    Returns:
        The results of each model, by name, in natural order (broken entry points last).

    Raises:
        UnknownModelError: ``name`` is neither a model nor a broken entry point.
    """
    from digitkit.plugins import registry

    reg = registry.get_registry()
    if name is not None:
        names = [name]
    else:
        names = [n for n in reg.names() if builtins or not reg.models[n].provider.builtin]
        names += sorted({b.name for b in reg.broken} - set(names), key=registry.natural_key)
    report: dict[str, list[CheckResult]] = {}
    for model_name in names:
        if on_model is not None:
            on_model(model_name)
        report[model_name] = check_model(model_name)
    return report
