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

Whatever the list says, an object is refused when it is malformed (a ``class_name``,
``module`` or ``registered_name`` that is not a string, a ``registered_name`` that is not a
plain ``Package>Name``) or names a class in :data:`REFUSED_CLASSES` (``Lambda``,
``__lambda__``, ``TFSMLayer``: they carry or load code), and a config nesting deeper than
:data:`digitkit.modelfiles.configwalk.MAX_DEPTH` levels is refused as a whole.

This module is the one place that decides what a config may name; ``modelfile.check_archive``
applies it once. Everything else is refused before Keras runs. See docs/security.md for the cases.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable

from digitkit.modelfiles import configwalk
from digitkit.errors import ModelRefusedError, printable

# digitkit's own serialisable layers ("digitkit.module.ClassName"); none ship today.
DIGITKIT_CLASSES: frozenset[str] = frozenset()
KERAS_ROOT = "keras"
# Classes refused wherever they appear, whatever declares them: they carry or load code.
REFUSED_CLASSES = {
    "Lambda": "Lambda layers hold Python code",
    "__lambda__": "it holds Python bytecode",
    "TFSMLayer": "it loads an external TensorFlow SavedModel",
}
# A serialised *function* may only name an activation, loss, metric or initializer; the
# safe-mode bypasses of 2025 called keras.config / keras.saving / keras.models functions.
FUNCTION_MODULES = (
    "keras.activations", "keras.src.activations", "keras.losses", "keras.src.losses",
    "keras.metrics", "keras.src.metrics", "keras.initializers", "keras.src.initializers",
    "keras.regularizers", "keras.src.regularizers", "keras.constraints", "keras.src.constraints",
)
# Packages no plugin can vouch for, whatever its entry point or list says.
NEVER_PLUGIN_ROOTS = frozenset({"keras", "tensorflow", "tf_keras", "digitkit", "builtins", "jax", "torch", "numpy"})
_REGISTERED_NAME = re.compile(r"^[A-Za-z_][\w.]*(>[A-Za-z_][\w.]*)?$")
_CUSTOM_HINT = "install the plugin that declares it, or re-save the model with Keras layers only"


@dataclass(frozen=True)
class Policy:
    """The classes a model file may name right now (see the module docstring)."""

    classes: frozenset[str]

    @property
    def packages(self) -> frozenset[str]:
        """Top-level packages with something trusted in them.

        Only used to word a refusal: a class from a module outside all of them is named
        as coming from an unknown module; trust itself is per class (:attr:`classes`).
        """
        return frozenset({KERAS_ROOT, "digitkit", *(c.split(".", 1)[0] for c in self.classes)})

    def check_config(self, config: Any, *, where: str = "model") -> None:
        """Refuse a ``config.json`` naming anything outside the policy.

        Every serialised object is checked wherever it hides (layers, initializers,
        activations, optimizer, loss), in file order.

        Raises:
            ModelRefusedError: naming the first offending object and why, or the config
                nests deeper than :data:`digitkit.modelfiles.configwalk.MAX_DEPTH` levels.
        """
        for obj in configwalk.objects(config, configwalk.names_code):
            self.check_object(obj, where=where)

    def check_object(self, obj: dict[str, Any], *, where: str = "model") -> None:
        """Refuse one serialised object (a dict naming a class, module or registered name).

        Raises:
            ModelRefusedError: the object is malformed, refused wherever it appears, a
                function outside Keras' safe modules, or a class nobody trusted vouches for.
        """
        class_name, module, registered = obj.get("class_name"), obj.get("module"), obj.get("registered_name")
        for value, field in ((class_name, "class_name"), (module, "module"), (registered, "registered_name")):
            if value is not None and not isinstance(value, str):
                raise ModelRefusedError(f"{where}: config.json has a {field} that is not a string: refused")
        for text in (class_name, registered):
            bare = (text or "").rsplit(">", 1)[-1]
            if bare in REFUSED_CLASSES:
                raise ModelRefusedError(f"{where} contains {_describe(obj)}: refused, {REFUSED_CLASSES[bare]} that "
                                        "would run when the model is used",
                                        hint="rebuild the model without it or load it yourself with Keras")
        if registered is not None and not _REGISTERED_NAME.match(registered):
            raise ModelRefusedError(f"{where}: registered name {printable(registered)!r} is malformed: refused")
        if class_name == "function" or registered == "function":
            if module is not None and _under(module, FUNCTION_MODULES):
                return
            raise ModelRefusedError(
                f"{where} calls function {printable(str(obj.get('config')))!r} from {printable(module or '?')!r} "
                "while loading: refused, only Keras activations, losses, metrics, initializers, regularizers and "
                "constraints may be called")
        if self._trusted(module, class_name, registered):
            return
        if module is not None and not _under(module, self.packages):
            raise ModelRefusedError(
                f"{where} names class {printable(str(class_name))!r} from module {printable(module)!r}, which is "
                f"not Keras, digitkit or an installed plugin: refused",
                hint="install the plugin that defines it")
        label = printable(f"{module or '?'}.{class_name or '?'}")
        alias = f" (registered as {printable(registered)!r})" if registered else ""
        raise ModelRefusedError(f"{where}: class {label!r}{alias} is not a Keras class, a digitkit layer or a class a "
                                "loaded plugin declares: refused", hint=_CUSTOM_HINT)

    def _trusted(self, module: str | None, class_name: str | None, registered: str | None) -> bool:
        custom = registered is not None and registered != class_name
        if not custom and (module is None or _under(module, (KERAS_ROOT,))):
            return True  # Keras' own class; a bare class name is resolved among Keras' own
        if module and class_name and f"{module}.{class_name}" in self.classes:
            return registered is None or registered.rsplit(">", 1)[-1] == class_name
        return False


def _under(module: str, roots: Iterable[str]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


def _describe(obj: dict[str, Any]) -> str:
    config = obj.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    label = f"{obj.get('module') or '?'}.{obj.get('class_name') or '?'}"
    return printable(f"{label} {name!r}" if isinstance(name, str) else label)


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
    from digitkit.plugins import registry

    classes = set(DIGITKIT_CLASSES)
    for model in registry.get_registry().models.values():
        classes |= plugin_classes(model.entry_point, model.spec.trusted_classes, builtin=model.provider.builtin)
    return Policy(frozenset(classes))


def check_config(config: Any, *, where: str = "model") -> Policy:
    """Check ``config`` against the current :func:`policy`; returns the policy used."""
    current = policy()
    current.check_config(config, where=where)
    return current
