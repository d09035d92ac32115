"""Plain helpers of the hostile-input suite (fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

@dataclass
class Completed:
    exit_code: int
    stdout: str
    stderr: str


def assert_one_error_line(result, exit_code: int, *words: str) -> str:
    """The command failed with ``exit_code`` and said so in exactly one ``error:`` line."""
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


SPEC_SOURCE = """
from digitkit.spec import InputSpec, ModelSpec, Recipe

def flat_builder():
    import keras
    x = keras.Input(shape=(784,))
    return keras.Model(x, keras.layers.Dense(10)(x))

def make(name, builder=flat_builder, **extra):
    return ModelSpec(name=name, summary="a test plugin model", input=InputSpec(28, (784,)), output="logits",
                     params=7850, recipe=Recipe(from_logits=True), builder=builder, source="a test",
                     **extra)
"""


def tree(folder: Path) -> list[str]:
    """Relative paths under ``folder`` (what is left on disk), sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []
