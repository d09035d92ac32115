"""Fine-tuning: start a fit from a trained model's weights, with a recipe for few examples.

``digitkit fit MODEL --init-from REF`` builds MODEL, copies REF's weights into it (REF must be
the same architecture: same input, same classes, same weight shapes), and trains on the
user's digits with what works when there are only a few dozen of them:

- a learning rate 30 times lower than the recipe's, so the first steps do not wreck what
  the model knew (the usual fine-tuning advice: Yosinski et al. 2014, Keras' transfer-learning
  guide);
- the training augmentation (the model's own layer, or ``--augment``'s pipeline otherwise);
- a held-out slice (at least 20 % of the training digits) and early stopping on it;
- small batches, so a hundred pictures still make several steps per epoch;
- optionally frozen feature layers (``--freeze``) and replayed MNIST digits
  (``--replay``, :mod:`digitkit.training.replay`), against forgetting.

Anything the caller sets explicitly (``--learning-rate``, ``--epochs``...) wins. The run
records its parent (manifest ``parent``) and, at the end, accuracy before and after on the
user's held-out digits and on the MNIST test set (manifest ``finetune``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from digitkit.errors import UsageError

LEARNING_RATE_FACTOR = 0.03  # 0.1 (3e-4 for cnn-best) made Adam forget more than it learnt
EPOCHS = 15
PATIENCE = 5
MIN_VALIDATION_SPLIT = 0.2
MAX_BATCH_SIZE = 32


@dataclass(frozen=True)
class FineTune:
    """What ``--init-from`` asked for, as the manifest's ``options`` records it.

    Attributes:
        init_from: the REF as given.
        freeze: feature layers frozen.
        replay: share of the training digits drawn from ``replay_data`` (``None``: no replay).
        replay_data: the dataset replayed and scored as "MNIST" (``None``: the default).
        parent: what REF resolved to (written to the manifest as ``parent``).
    """

    init_from: str
    freeze: bool = False
    replay: float | None = None
    replay_data: str | None = None
    parent: dict[str, Any] = field(default_factory=dict)

    def options(self) -> dict[str, Any]:
        return {"init_from": self.init_from, "freeze": self.freeze, "replay": self.replay,
                "replay_data": self.replay_data}

    @classmethod
    def from_options(cls, saved: dict[str, Any]) -> "FineTune":
        replay = saved.get("replay")
        return cls(str(saved["init_from"]), bool(saved.get("freeze")),
                   float(replay) if isinstance(replay, (int, float)) else None,
                   saved.get("replay_data") if isinstance(saved.get("replay_data"), str) else None)


def check_parent(ref: str, spec: Any) -> Any:
    """Resolve REF and refuse it, without TensorFlow, when it cannot seed ``spec``'s model.

    Returns:
        the :class:`~digitkit.inference.refs.ModelRef`.

    Raises:
        UsageError: no ``.keras`` file, or a declared input or class count that differs.
        UnknownModelError: nothing answers to REF.
    """
    from digitkit.inference import refs

    model_ref = refs.resolve(ref)
    if model_ref.keras_path is None or not model_ref.keras_path.is_file():
        raise UsageError(f"--init-from {ref}: {model_ref.label} has no .keras file to start from",
                         hint="a .tflite file holds no trainable weights; use a run or a .keras file")
    meta: Any = None
    if model_ref.pretrained:
        from digitkit import pretrained

        meta = pretrained.card(model_ref.name)
    elif model_ref.manifest is not None:
        meta = model_ref.manifest.get("spec")
    if isinstance(meta, dict):
        declared, _ = refs.declared_input(meta, where=f"--init-from {ref}")
        if declared is not None and tuple(declared.shape) != tuple(spec.input.shape):
            raise _mismatch(ref, spec, f"takes input {tuple(declared.shape)}", f"{tuple(spec.input.shape)}")
        classes = meta.get("num_classes")
        if isinstance(classes, int) and classes != spec.num_classes:
            raise _mismatch(ref, spec, f"has {classes} classes", f"{spec.num_classes}")
    return model_ref


def _mismatch(ref: str, spec: Any, what: str, expected: str) -> UsageError:
    return UsageError(f"--init-from {ref} {what}; model {spec.name!r} expects {expected}",
                      hint="start from a model of the same kind (e.g. `--init-from "
                           f"{spec.name}@pretrained`)")


def parent_record(model_ref: Any, ref: str) -> dict[str, Any]:
    """The manifest's ``parent``: where the starting weights came from, and their digest."""
    from digitkit.modelfiles.digests import sha256

    path = model_ref.keras_path
    return {"ref": ref, "label": model_ref.label, "model": model_ref.name,
            "run": model_ref.run.id if model_ref.run is not None else None,
            "pretrained": bool(model_ref.pretrained), "file": str(path), "sha256": sha256(path)}


def few_example_config(config: Any, options: Any) -> Any:
    """``config`` with the few-example recipe where ``options`` left a choice open."""
    recipe, overrides = config.recipe, dict(config.overrides)
    changes: dict[str, Any] = {}
    if options.learning_rate is None:
        changes["learning_rate"] = recipe.learning_rate * LEARNING_RATE_FACTOR
    if options.epochs is None:
        changes["epochs"] = EPOCHS
    if options.batch_size is None:
        changes["batch_size"] = min(recipe.batch_size, MAX_BATCH_SIZE)
    if options.validation_split is None:
        changes["validation_split"] = max(recipe.validation_split, MIN_VALIDATION_SPLIT)
    if recipe.writing_styles:  # a user's own 7s and 1s are what the fine-tune is for: never redrawn
        changes["writing_styles"] = 0.0
    overrides.update(changes)
    parent = parent_record(options.__dict__["_parent"], options.init_from)
    finetune = FineTune(options.init_from, options.freeze, options.replay, options.replay_data, parent)
    return dataclasses.replace(
        config, recipe=recipe.replace(**changes), overrides=overrides, early_stopping=True,
        patience=options.patience or PATIENCE, augment=options.augment or not has_own_augmentation(config.spec),
        finetune=finetune)


def has_own_augmentation(spec: Any) -> bool:
    """Whether the model augments its inputs itself (cnn-best's ``DigitAugment`` layer): the
    pipeline's augmentation on top would distort the digits twice."""
    return any("Augment" in name.rsplit(".", 1)[-1] for name in spec.trusted_classes)


def load_parent(model: Any, config: Any) -> None:
    """Copy the parent's weights into the freshly built ``model``; freeze with ``--freeze``.

    Called before the model is compiled (Keras reads ``trainable`` when it compiles).

    Raises:
        UsageError: the parent's input, classes or weight shapes differ from the model's.
        ModelRefusedError: the gate refuses the parent's file.
    """
    ft = config.finetune
    if ft.parent:  # a new fit; a resumed one gets its weights from its saved state
        _copy_parent(model, ft, config.spec)
    if ft.freeze:  # on resume too: the saved optimizer state holds slots for trainable weights only
        freeze_features(model)


def _copy_parent(model: Any, ft: FineTune, spec: Any) -> None:
    from digitkit.modelfiles import load_model

    parent = load_model(ft.parent["file"])
    inputs = tuple(parent.inputs[0].shape[1:]) if len(parent.inputs) == 1 else None
    outputs = tuple(parent.outputs[0].shape[1:]) if len(parent.outputs) == 1 else None
    if inputs != tuple(spec.input.shape):
        raise _mismatch(ft.init_from, spec, f"takes input {inputs}", f"{tuple(spec.input.shape)}")
    if outputs != (spec.num_classes,):
        raise _mismatch(ft.init_from, spec, f"gives output {outputs}", f"({spec.num_classes},)")
    theirs, ours = parent.get_weights(), model.get_weights()
    if [w.shape for w in theirs] != [w.shape for w in ours]:
        raise UsageError(f"--init-from {ft.init_from} is another architecture than {spec.name!r} "
                         f"({len(theirs)} weight arrays vs {len(ours)}, or different shapes)",
                         hint="fit the model REF was trained as (its manifest or card names it)")
    model.set_weights(theirs)


def freeze_features(model: Any) -> list[str]:
    """Freeze every layer up to the last feature layer (the last layer with weights that is
    not ``Dense``); an all-``Dense`` model keeps only its last layer trainable.

    Returns:
        the names of the layers left trainable.
    """
    import keras

    layers = list(model.layers)
    weighted = [i for i, layer in enumerate(layers) if layer.weights]
    features = [i for i in weighted if not isinstance(layers[i], keras.layers.Dense)]
    cut = features[-1] if features else (weighted[-2] if len(weighted) > 1 else -1)
    for layer in layers[: cut + 1]:
        layer.trainable = False
    return [layer.name for layer in layers[cut + 1:] if layer.weights]


class BeforeAfter:
    """Accuracy of the model on the user's held-out digits and the MNIST test set, measured
    once with the parent's weights and once after training."""

    def __init__(self, config: Any, test: Any, eval_args: dict[str, Any],
                 status: Callable[[str], None] | None = None) -> None:
        from digitkit.data import load_digits
        from digitkit.data.resolve import resolve_dataset
        from digitkit.training.data import eval_dataset

        ft, spec = config.finetune, config.spec
        mnist = load_digits(resolve_dataset(ft.replay_data), "test", status=status)
        self.sizes = {"held_out": len(test), "mnist_test": len(mnist)}
        self.mnist_source = mnist.source
        self.sets = {"held_out": eval_dataset(test, spec.input, **eval_args),
                     "mnist_test": eval_dataset(mnist, spec.input, **eval_args)}
        self.before: dict[str, float] = {}

    def _score(self, model: Any) -> dict[str, float]:
        from digitkit._internal.quiet import quiet_native_stderr

        with quiet_native_stderr():
            return {name: float(model.evaluate(data, verbose=0, return_dict=True)["accuracy"])
                    for name, data in self.sets.items()}

    def measure_before(self, model: Any) -> None:
        self.before = self._score(model)

    def after(self, model: Any) -> dict[str, Any]:
        """The manifest's ``finetune`` field."""
        after = self._score(model)
        return {name: {"before": _round(self.before.get(name)), "after": _round(after[name]),
                       "size": self.sizes[name]}
                for name in after} | {"mnist_source": self.mnist_source}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
