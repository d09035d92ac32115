"""Scaffolding a new model plugin project that installs and passes its tests at once.

``digitkit plugins new NAME`` calls :func:`new_plugin`. The project it writes has a
pyproject with the ``digitkit.models`` entry point, a model module with a spec (a small CNN,
to be replaced by the author's model), a test that runs digitkit's conformance kit, and a
README. The templates are plain strings here so they ship with any install of digitkit.
"""

from __future__ import annotations

import os
import re
import shutil
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path

from digitkit import __version__
from digitkit.errors import DigitkitError, UsageError
from digitkit.spec import NAME_PATTERN

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "The $name model for digitkit."
readme = "README.md"
requires-python = ">=3.10"
license = { text = "Apache-2.0" }
dependencies = ["digitkit>=$digitkit_version"]

[project.optional-dependencies]
test = ["pytest>=8"]

# The entry point's name is the model's name; its value names the ModelSpec.
[project.entry-points."digitkit.models"]
"$name" = "$package.model:SPEC"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
filterwarnings = ["ignore::DeprecationWarning"]
"""

INIT = '''\
"""$distribution: the $name model for digitkit."""

__version__ = "0.1.0"
'''

MODEL = '''\
"""The $name model.

This module is imported by `digitkit list-models`: keep TensorFlow and Keras imports
inside the builder, so listing models stays instant.
"""

from __future__ import annotations

from digitkit.spec import InputSpec, ModelSpec, Recipe


def build_model(filters: int = 16, name: str = "$name"):
    """Build the $name model: one conv/pool block and a linear classifier (logits).

    Args:
        filters: number of convolution filters.
        name: Keras model name.

    Returns:
        An uncompiled ``keras.Model`` mapping a 28x28x1 digit to 10 logits.
    """
    if filters < 1:
        raise ValueError(f"expected filters >= 1. Received: filters={filters}")
    import keras

    inputs = keras.Input(shape=(28, 28, 1), name="digit")
    x = keras.layers.Conv2D(filters, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


SPEC = ModelSpec(
    name="$name",
    summary="One conv/pool block and a linear classifier (replace with your model).",
    input=InputSpec(image_size=28, shape=(28, 28, 1)),
    output="logits",
    params=27_210,  # must equal the built model's count_params(); the conformance test checks it
    recipe=Recipe(
        optimizer="adam",
        learning_rate=0.001,
        loss="sparse_categorical_crossentropy",
        from_logits=True,
        batch_size=128,
        epochs=5,
        validation_split=0.1,
    ),
    builder=build_model,
    source="digitkit plugin template",
    license="Apache-2.0",
)
'''

TEST = '''\
"""The $name model passes digitkit's plugin conformance kit."""

from importlib import metadata

from digitkit.plugins.testing import assert_conforms
from $package.model import SPEC


def test_entry_point_names_the_spec():
    points = {ep.name: ep for ep in metadata.entry_points(group="digitkit.models")}
    assert points["$name"].load() is SPEC


def test_model_conforms():
    # Metadata, import without TensorFlow, build, shapes, params, finite outputs,
    # logits/probabilities, save/load round trip, training lowers the loss.
    assert_conforms(SPEC, module="$package.model")
'''

README = """\
# $distribution

The `$name` model for [digitkit](https://pypi.org/project/digitkit/), as a plugin.

## Install and try

```console
$$ pip install -e .
$$ digitkit list-models $name
$$ digitkit plugins check $name
$$ digitkit fit $name
```

## Develop

Edit `src/$package/model.py`: the builder makes the Keras model, the `SPEC` declares its
input, output kind (`logits` or `probabilities`), exact parameter count and training recipe.
Then run the tests, which use digitkit's conformance kit (`digitkit.plugins.testing`):

```console
$$ pip install -e ".[test]"
$$ pytest
```

Licence: Apache-2.0.
"""

GITIGNORE = """\
__pycache__/
*.egg-info/
build/
dist/
.pytest_cache/
"""


@dataclass(frozen=True)
class ScaffoldResult:
    """What :func:`new_plugin` wrote.

    Attributes:
        path: the project folder.
        distribution: the distribution name (``digitkit-NAME``).
        package: the import package (``digitkit_NAME``).
        files: the files written, relative to ``path``.
        notes: warnings for the author (e.g. an installed model already has this name).
    """

    path: Path
    distribution: str
    package: str
    files: tuple[str, ...]
    notes: tuple[str, ...] = ()


def name_in_use(name: str) -> str | None:
    """Why ``name`` would collide with an installed model, or ``None``.

    `plugins new cnn` scaffolded a plugin whose model the built-in ``cnn`` would always hide.
    """
    from digitkit.plugins import registry

    try:
        if not registry.is_model(name):
            return None
        model = registry.get_model(name)
    except Exception:  # noqa: BLE001 - a broken registry is not this command's news
        return None
    provider = model.provider
    wins = ("the built-in zoo always wins over plugins" if provider.builtin
            else "plugins with the same name clash")
    return (f"a model called {name!r} is already installed ({provider.distribution} {provider.version}); "
            f"{wins}: pick another name")


def plugin_names(name: str) -> tuple[str, str]:
    """The distribution and package names for a model name: ``digitkit-NAME``, ``digitkit_NAME``.

    Raises:
        UsageError: ``name`` is not a valid model name.
    """
    if not NAME_PATTERN.match(name or ""):
        raise UsageError(
            f"expected a lower-case model name of letters, digits, '.', '_' or '-'. Received: name={name!r}",
            hint="e.g. `digitkit plugin new lenet5`",
        )
    return f"digitkit-{name}", "digitkit_" + re.sub(r"[^a-z0-9_]", "_", name)


def render_files(name: str) -> dict[str, str]:
    """The project's files (relative path -> text) for the model called ``name``."""
    distribution, package = plugin_names(name)
    values = {"name": name, "distribution": distribution, "package": package,
              "digitkit_version": __version__}
    templates = {
        "pyproject.toml": PYPROJECT, "README.md": README, ".gitignore": GITIGNORE,
        f"src/{package}/__init__.py": INIT, f"src/{package}/model.py": MODEL,
        "tests/test_model.py": TEST,
    }
    return {path: string.Template(text).substitute(values) for path, text in templates.items()}


def new_plugin(name: str, directory: str | os.PathLike[str] | None = None) -> ScaffoldResult:
    """Write a new plugin project for the model ``name``.

    The files are written into a temporary sibling folder that is renamed into place, so a
    failure leaves nothing half-written.

    Args:
        name: the model's name (also the entry point's name).
        directory: the project folder to create (default ``./digitkit-NAME``); it must not
            exist, or be empty.

    Raises:
        UsageError: bad name, or the folder exists and is not empty.
        DigitkitError: the folder cannot be written.
    """
    distribution, package = plugin_names(name)
    target = Path(directory) if directory is not None else Path.cwd() / distribution
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} already exists and is not empty", hint="choose another --dir")
    files = render_files(name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            for relative, text in files.items():
                path = staging / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            if target.exists():
                target.rmdir()  # empty, checked above
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as exc:
        raise DigitkitError(f"cannot write the plugin project at {target}: {exc.strerror or exc}") from exc
    taken = name_in_use(name)
    return ScaffoldResult(target, distribution, package, tuple(sorted(files)), (taken,) if taken else ())
