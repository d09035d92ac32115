"""Which classes and functions a model file may name: trust that a plugin has to earn.

A ``.keras`` file's ``config.json`` names the classes and functions Keras will import and
call while loading it. digitkit lets through exactly:

1. **Keras' own classes**: a ``module`` of ``keras`` or ``keras.*``, without a custom
   ``registered_name`` (``Package>Name`` would make Keras look the name up among custom
   objects instead);
2. **digitkit's layer classes**: listed by name in :data:`DIGITKIT_CLASSES` and on the
   built-in specs (``ModelSpec.trusted_classes``);
3. **classes a loaded, conforming plugin declares** in ``ModelSpec.trusted_classes``: only
   when the plugin imported cleanly, passed the quick checks, won its model name, and the
   class lies in the plugin's own top-level package. A broken, slow, shadowed or disabled
   plugin contributes nothing; no plugin can vouch for the standard library, Keras,
   TensorFlow or digitkit;
4. **functions** only from Keras' activation, loss, metric, initializer, regularizer and
   constraint modules, never from digitkit or a plugin module (``digitkit.runs.remove_run``
   is a function a crafted file could otherwise ask Keras to call).

Everything else is refused before Keras runs. See docs/security.md for the cases.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from digitkit.errors import ModelRefusedError, printable

# digitkit's own serialisable layers ("digitkit.module.ClassName"); none ship today.
DIGITKIT_CLASSES: frozenset[str] = frozenset()
KERAS_ROOT = "keras"
FUNCTION_MODULES = (
    "keras.activations", "keras.src.activations", "keras.losses", "keras.src.losses",
    "keras.metrics", "keras.src.metrics", "keras.initializers", "keras.src.initializers",
    "keras.regularizers", "keras.src.regularizers", "keras.constraints", "keras.src.constraints",
)
# Packages no plugin can vouch for, whatever its entry point or list says.
NEVER_PLUGIN_ROOTS = frozenset({"keras", "tensorflow", "tf_keras", "digitkit", "builtins", "jax", "torch", "numpy"})
MAX_DEPTH = 64


@dataclass(frozen=True)
class Policy:
    """The classes a model file may name right now (see the module docstring)."""

    classes: frozenset[str]

    @property
    def module_roots(self) -> tuple[str, ...]:
        """Top-level packages holding trusted classes (for the structural walk in modelfile)."""
        return tuple(sorted({KERAS_ROOT, *(c.split(".", 1)[0] for c in self.classes)}))

    def refusal(self, obj: dict[str, Any]) -> str | None:
        """Why ``obj`` (one serialised object) may not be loaded, or ``None``."""
        class_name, module, registered = obj.get("class_name"), obj.get("module"), obj.get("registered_name")
        if not all(v is None or isinstance(v, str) for v in (class_name, module, registered)):
            return "a class_name, module or registered_name that is not a string"
        if class_name == "function" or registered == "function":
            if module is not None and _under(module, FUNCTION_MODULES):
                return None
            return (f"function {printable(str(obj.get('config')))!r} from {printable(module or '?')!r}: only Keras "
                    "activations, losses, metrics, initializers, regularizers and constraints may be called")
        custom = registered is not None and registered != class_name
        if module is None:
            if not custom:
                return None  # a bare Keras class name, resolved among Keras' own
            return self._declared(module, class_name, registered)
        if _under(module, (KERAS_ROOT,)) and not custom:
            return None
        return self._declared(module, class_name, registered)

    def _declared(self, module: str | None, class_name: str | None, registered: str | None) -> str | None:
        if module and class_name and f"{module}.{class_name}" in self.classes:
            if registered is None or registered.rsplit(">", 1)[-1] == class_name:
                return None
        label = f"{module or '?'}.{class_name or '?'}"
        return (f"class {printable(label)!r}" + (f" (registered as {printable(registered)!r})" if registered else "")
                + " is not a Keras class, a digitkit layer or a class a loaded plugin declares")

    def check_config(self, config: Any, *, where: str = "model") -> None:
        """Refuse a ``config.json`` naming anything outside the policy.

        Raises:
            ModelRefusedError: naming the first offending object and why.
        """
        for obj in _objects(config):
            reason = self.refusal(obj)
            if reason:
                hint = None if reason.startswith("function") else \
                    "install the plugin that declares it, or re-save the model with Keras layers only"
                raise ModelRefusedError(f"{where}: {reason}: refused", hint=hint)


def _under(module: str, roots: Iterable[str]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


def _objects(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > MAX_DEPTH:
        raise ModelRefusedError(f"config.json nests deeper than {MAX_DEPTH} levels: refused")
    if isinstance(node, dict):
        if any(key in node for key in ("class_name", "module", "registered_name")):
            yield node
        for value in node.values():
            yield from _objects(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value, depth + 1)


def _stdlib(root: str) -> bool:
    return root in getattr(sys, "stdlib_module_names", ()) or root in sys.builtin_module_names


def plugin_classes(entry_point_value: str, declared: Iterable[str], *, builtin: bool) -> set[str]:
    """The declared classes a plugin may vouch for: those in its own top-level package."""
    own = entry_point_value.split(":", 1)[0].strip().split(".", 1)[0]
    if builtin:
        return {c for c in declared if c.split(".", 1)[0] == "digitkit"}
    if not own.isidentifier() or own in NEVER_PLUGIN_ROOTS or _stdlib(own):
        return set()
    return {c for c in declared if c.split(".", 1)[0] == own}


def policy() -> Policy:
    """The policy for this process: Keras, digitkit's layers, and conforming plugins' declared classes.

    Loads the registry (imports the enabled plugins, never TensorFlow by itself): only a
    plugin that loaded and passed the quick checks is in it.
    """
    from digitkit import registry

    classes = set(DIGITKIT_CLASSES)
    for model in registry.get_registry().models.values():
        classes |= plugin_classes(model.entry_point, model.spec.trusted_classes, builtin=model.provider.builtin)
    return Policy(frozenset(classes))


def check_config(config: Any, *, where: str = "model") -> Policy:
    """Check ``config`` against the current :func:`policy`; returns the policy used."""
    current = policy()
    current.check_config(config, where=where)
    return current
