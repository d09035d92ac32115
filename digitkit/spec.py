"""What a model plugin declares: metadata, a training recipe, and a lazy builder.

Nothing here imports TensorFlow or Keras, so listing models stays instant. A plugin's
entry point (group ``digitkit.models``) names a :class:`ModelSpec`, or a callable that
returns one; see docs/plugins.md.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

OutputKind = Literal["logits", "probabilities"]
LabelEncoding = Literal["integer", "one-hot"]

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
LOSSES = {"categorical_crossentropy": "one-hot", "sparse_categorical_crossentropy": "integer"}
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "nadam", "adagrad")
# "constant": the learning rate as given; "cosine": decays from it to ~0 over all the planned
# steps (Loshchilov & Hutter 2016, without restarts).
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class InputSpec:
    """The input a model expects, derived from an MNIST-style 28x28 digit.

    Attributes:
        image_size: side of the square grey digit the model sees (28, or 20 for resized).
        shape: the tensor shape of one sample, e.g. ``(28, 28, 1)``, ``(784,)``, ``(400,)``.
    """

    image_size: int = 28
    shape: tuple[int, ...] = (28, 28, 1)

    def __post_init__(self) -> None:
        size = self.image_size * self.image_size
        count = 1
        for dim in self.shape:
            count *= dim
        if count != size:
            raise ValueError(
                f"expected an input shape holding {self.image_size}x{self.image_size} = {size} "
                f"values. Received: shape={self.shape}"
            )

    @property
    def is_flat(self) -> bool:
        return len(self.shape) == 1

    def describe(self) -> str:
        """Short human form: '28x28x1 image', '784 vector', '20x20 → 400 vector'."""
        side = f"{self.image_size}x{self.image_size}"
        if self.is_flat:
            prefix = "" if self.image_size == 28 else f"{side} → "
            return f"{prefix}{self.shape[0]} vector"
        return "x".join(str(d) for d in self.shape) + " image"


@dataclass(frozen=True)
class Recipe:
    """How the reference notebook trained the model; ``digitkit fit`` defaults to it.

    Attributes:
        optimizer: Keras optimizer identifier (``"adam"``...).
        learning_rate: the optimizer's learning rate.
        loss: ``"categorical_crossentropy"`` (one-hot labels) or
            ``"sparse_categorical_crossentropy"`` (integer labels).
        from_logits: whether the loss receives logits.
        batch_size: samples per step.
        epochs: passes over the training data.
        validation_split: share of the training data held out for validation, 0 for none.
        schedule: learning-rate schedule over the planned steps, one of ``SCHEDULES``.
        writing_styles: share of the training 7s and 1s redrawn, before training, as a
            continental 7 (a bar across the stem) and a 1 with a flag and a foot
            (:func:`digitkit.zoo.writing_styles.restyle`); 0 for none. Styles MNIST's writers
            seldom used, which augmentation cannot make because it never sees the label.
    """

    optimizer: str = "adam"
    learning_rate: float = 0.001
    loss: str = "sparse_categorical_crossentropy"
    from_logits: bool = False
    batch_size: int = 32
    epochs: int = 10
    validation_split: float = 0.1
    schedule: str = "constant"
    writing_styles: float = 0.0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"expected schedule in {SCHEDULES}. Received: schedule={self.schedule!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"expected optimizer in {OPTIMIZERS}. Received: optimizer={self.optimizer!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"expected loss in {tuple(LOSSES)}. Received: loss={self.loss!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"expected learning_rate > 0. Received: learning_rate={self.learning_rate}")
        if self.batch_size < 1 or self.epochs < 1:
            raise ValueError(
                f"expected batch_size >= 1 and epochs >= 1. "
                f"Received: batch_size={self.batch_size}, epochs={self.epochs}"
            )
        if not 0 <= self.writing_styles <= 1:
            raise ValueError(f"expected 0 <= writing_styles <= 1. Received: writing_styles={self.writing_styles}")
        if not 0 <= self.validation_split < 1:
            raise ValueError(
                f"expected 0 <= validation_split < 1. Received: validation_split={self.validation_split}"
            )

    @property
    def label_encoding(self) -> LabelEncoding:
        return LOSSES[self.loss]  # type: ignore[return-value]

    def replace(self, **changes: Any) -> "Recipe":
        """A copy with some fields changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def describe(self) -> str:
        """Recipe in short: 'adam 1e-3, bs 128, 10 ep, val 0.1'."""
        val = f", val {self.validation_split:g}" if self.validation_split else ""
        schedule = f" {self.schedule}" if self.schedule != "constant" else ""
        # writing_styles is left out: the line must fit list-models' 80 columns (show-model lists it).
        return f"{self.optimizer} {self.learning_rate:g}{schedule}, bs {self.batch_size}, {self.epochs} ep{val}"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["label_encoding"] = self.label_encoding
        return data


def natural_key(text: str) -> list[Any]:
    """Sort key that orders 'model-2' before 'model-10' (model names, run names)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


# The plugin contract: what a ModelSpec holds and what its builder must return. The minor
# version grows with additions a plugin may ignore; the major version changes only when an
# old spec could be misread, and then plugins written for another major version are refused.
# 1.1: Recipe.writing_styles (a spec written for 1.0 trains as before).
API_VERSION = "1.1"


def api_major(version: str) -> int | None:
    """The major version of an ``api_version`` string, or ``None`` when it is malformed."""
    head = version.split(".", 1)[0] if isinstance(version, str) else ""
    return int(head) if head.isdigit() else None


@dataclass(frozen=True)
class ModelSpec:
    """A model as the registry knows it: metadata plus a builder called only on demand.

    Attributes:
        name: registry name, lower case (``"cnn"``).
        summary: one line saying what the model is.
        input: the input the model expects.
        output: ``"logits"`` or ``"probabilities"``.
        params: exact trainable + non-trainable parameter count of the built model.
        recipe: the reference training recipe.
        builder: a callable returning a new, uncompiled ``keras.Model``; it imports Keras.
        source: where the architecture comes from (paper, notebook, URL).
        license: licence of the architecture/weights definition.
        num_classes: number of output classes.
        trusted_classes: fully qualified classes (``"my_plugin.layers.Gate"``) that this
            model's saved ``.keras`` files may name; trusted only while the plugin loads and
            conforms (see docs/security.md). Keras' own classes need no listing. The model-file
            gate imports a listed class's module before loading a file that names it, which
            registers the layer: a spec declares its custom layers here, nothing else does.
        api_version: the plugin contract (``"MAJOR.MINOR"``) this spec was written for;
            digitkit refuses a spec of another major version than :data:`API_VERSION`.
    """

    name: str
    summary: str
    input: InputSpec
    output: OutputKind
    params: int
    recipe: Recipe
    builder: Callable[..., Any] = field(repr=False, compare=False)
    source: str = ""
    license: str = "Apache-2.0"
    num_classes: int = 10
    trusted_classes: tuple[str, ...] = ()
    api_version: str = API_VERSION

    def __post_init__(self) -> None:
        if isinstance(self.trusted_classes, list):
            object.__setattr__(self, "trusted_classes", tuple(self.trusted_classes))
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            raise ValueError(
                f"expected a lower-case name of letters, digits, '.', '_' or '-'. Received: name={self.name!r}"
            )
        if self.output not in ("logits", "probabilities"):
            raise ValueError(f"expected output 'logits' or 'probabilities'. Received: output={self.output!r}")
        if not isinstance(self.input, InputSpec):
            raise ValueError(f"expected input to be an InputSpec. Received: input={self.input!r}")
        if not isinstance(self.recipe, Recipe):
            raise ValueError(f"expected recipe to be a Recipe. Received: recipe={self.recipe!r}")
        if not callable(self.builder):
            raise ValueError(f"expected a callable builder. Received: builder={self.builder!r}")
        if not isinstance(self.params, int) or self.params < 1:
            raise ValueError(f"expected params to be a positive int. Received: params={self.params!r}")
        if not self.summary:
            raise ValueError("expected a one-line summary. Received: summary=''")

    def build(self, **kwargs: Any) -> Any:
        """Build a new, uncompiled Keras model (imports Keras)."""
        return self.builder(**kwargs)

    def metadata(self) -> dict[str, Any]:
        """JSON-ready metadata (no builder)."""
        return {
            "name": self.name,
            "summary": self.summary,
            "input": {"image_size": self.input.image_size, "shape": list(self.input.shape),
                      "description": self.input.describe()},
            "output": self.output,
            "params": self.params,
            "num_classes": self.num_classes,
            "recipe": self.recipe.to_dict(),
            "source": self.source,
            "license": self.license,
            "api_version": self.api_version,
        }
