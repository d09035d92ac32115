"""docs/architecture.md kept true: the rooms, who may import whom, where TensorFlow may load.

Every ``import digitkit.X`` in the package, at module level or inside a function (a lazy
import is still a dependency), must go from a room to a room of the same or a lower layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "digitkit"

# The only .py files directly under digitkit/ (at most 8, docs/architecture.md).
TOP_LEVEL = {"__init__.py", "__main__.py", "errors.py", "spec.py", "home.py", "exporting.py", "bench.py"}

# Lowest first. A module may import its own room and rooms of a lower or equal layer.
LAYERS: list[set[str]] = [
    {"digitkit", "errors", "spec", "home", "_internal"},
    {"intake", "runs", "zoo", "pretrained", "figures"},
    {"data", "plugins"},
    {"modelfiles"},
    {"inference"},
    {"exporting", "evaluation", "reading", "labelling"},
    {"training", "plugins.testing", "plugins.scaffold"},
    {"render"},
    {"bench", "report", "serve"},
    {"cli"},
    {"__main__"},
]
# Pairs on the same layer that may not import each other either way.
APART = [("intake", "runs"), ("data", "plugins")]
# Modules that import TensorFlow, Keras or tensorflow-datasets at module level, and why it is
# safe: each is itself imported only inside the functions that need it.
HEAVY_AT_MODULE_LEVEL = {
    "digitkit/data/local_idx.py": "a tensorflow-datasets builder class for IDX folders",
    "digitkit/zoo/digit_augment.py": "cnn-best's Keras layer, imported by its builder and by the gate",
    "digitkit/zoo/capture_transforms.py": "keras.ops transforms of that layer, imported only by it",
    "digitkit/training/callbacks.py": "Keras callbacks, imported by the epoch loop",
}
HEAVY = {"tensorflow", "keras", "tensorflow_datasets", "tf_keras"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _room(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "digitkit"
    if parts[1] == "plugins" and len(parts) > 2 and parts[2] in ("testing", "scaffold"):
        return f"plugins.{parts[2]}"
    return parts[1]


def _layer(room: str) -> int:
    for index, rooms in enumerate(LAYERS):
        if room in rooms:
            return index
    raise AssertionError(f"room {room!r} is on no layer of tests/test_architecture.py: add it (and to "
                         "docs/architecture.md)")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "digitkit":
                yield from ((f"digitkit.{alias.name}", node) for alias in node.names)
            else:
                yield node.module, node


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_the_top_level_holds_only_the_listed_modules():
    found = {p.name for p in PACKAGE.glob("*.py")}
    assert found == TOP_LEVEL, f"new top-level modules {sorted(found - TOP_LEVEL)}: put them in a room"
    assert len(TOP_LEVEL) <= 8


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_never_run_up_a_layer(path):
    source = _room(_module(path))
    for name, node in _imports(path):
        if not name.startswith("digitkit.") or name.split(".")[1].startswith("__"):
            continue
        target = _room(name)
        if target == source:
            continue
        assert _layer(target) <= _layer(source), \
            f"{path.relative_to(PACKAGE)}:{node.lineno} imports {name} ({target}) from a lower layer ({source})"
        assert (source, target) not in APART and (target, source) not in APART, \
            f"{path.relative_to(PACKAGE)}:{node.lineno}: {source} and {target} stay apart"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_tensorflow_loads_at_module_level_only_where_listed(path):
    relative = str(path.relative_to(PACKAGE.parent))
    heavy = [name for name, node in _imports(path) if name.split(".")[0] in HEAVY and node in ast.parse(
        path.read_text(encoding="utf-8")).body]
    assert not heavy or relative in HEAVY_AT_MODULE_LEVEL, \
        f"{relative} imports {heavy} at module level: import it inside the function that needs it"


def test_the_rules_named_in_the_docs_hold():
    """The three rules docs/architecture.md states in words, checked directly."""
    layer = {room: _layer(room) for rooms in LAYERS for room in rooms}
    assert layer["intake"] < layer["training"] and layer["runs"] < layer["training"]
    assert layer["inference"] < layer["cli"]
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for rooms in LAYERS:
        for room in rooms - {"digitkit", "__main__"}:
            assert f"`{room.split('.')[0]}" in text, f"docs/architecture.md does not mention {room}"
