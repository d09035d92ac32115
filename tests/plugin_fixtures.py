"""Fake plugin distributions for tests: what pip leaves on disk, written by hand."""

from __future__ import annotations

import textwrap

# A plugin module whose model declares extra Keras classes to trust (``{name}``, ``{classes}``).
TRUSTING_SPEC = """
from digitkit.spec import InputSpec, ModelSpec, Recipe

def build():
    import keras
    x = keras.Input(shape=(784,))
    return keras.Model(x, keras.layers.Dense(10)(x))

SPEC = ModelSpec(name="{name}", summary="declares a layer", input=InputSpec(28, (784,)), output="logits",
                 params=7850, recipe=Recipe(from_logits=True), builder=build, source="test",
                 trusted_classes={classes!r})
"""


def write_fake_plugin(folder, dist: str, entry_points: dict[str, str], modules: dict[str, str],
                      version: str = "1.0") -> None:
    """A plugin distribution as pip would leave it: a dist-info with entry points, plus modules."""
    info = folder / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[digitkit.models]\n{lines}\n")
    for name, source in modules.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
