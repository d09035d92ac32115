"""Tables for models, plugins and layers."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from digitkit.plugins.registry import RegisteredModel, Registry


def models_table(models: list[RegisteredModel], *, wide: bool = False,
                 pretrained: frozenset[str] | set[str] = frozenset()) -> Table:
    """One line per model at 80 columns; ``wide`` trades input and output for the recipe.

    ``pretrained`` names the models that ship weights (marked ✓ in a narrow column).

    Cells never end in "…": a column too narrow for its text folds it onto a second line.
    """
    table = Table(title="digitkit models", title_justify="left", box=None, pad_edge=False, padding=(0, 1, 0, 0),
                  header_style="bold underline")
    table.add_column("name", style="bold cyan", no_wrap=True)
    if not wide:
        table.add_column("input", no_wrap=True)
        table.add_column("output", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    if wide:
        table.add_column("recipe", no_wrap=True)
    table.add_column("pre", justify="center", no_wrap=True)
    table.add_column("provided by", style="dim", overflow="fold")
    def mark(name: str) -> str:
        return "✓" if name in pretrained else ""

    for model in models:
        spec = model.spec
        if wide:
            table.add_row(escape(spec.name), f"{spec.params:,}", escape(spec.recipe.describe()), mark(spec.name),
                          escape(f"{model.provider.distribution} {model.provider.version}"))
        else:
            table.add_row(escape(spec.name), escape(spec.input.describe()), spec.output, f"{spec.params:,}",
                          mark(spec.name), escape(model.provider.distribution))
    return table


def spec_table(model: RegisteredModel) -> Table:
    spec = model.spec
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    recipe = spec.recipe
    rows = [
        ("name", spec.name), ("summary", spec.summary), ("input", spec.input.describe()),
        ("output", f"{spec.num_classes} {spec.output}"), ("params", f"{spec.params:,}"),
        ("optimizer", f"{recipe.optimizer}, learning rate {recipe.learning_rate:g}"),
        ("loss", f"{recipe.loss}{' (from logits)' if recipe.from_logits else ''}, {recipe.label_encoding} labels"),
        ("schedule", f"batch {recipe.batch_size}, {recipe.epochs} epochs, validation split {recipe.validation_split:g}"
                     + (f", {recipe.schedule} learning rate" if recipe.schedule != "constant" else "")),
        *([("training data", f"{recipe.writing_styles:.0%} of the 7s and 1s redrawn in other writing styles "
                             "(a barred 7, a flagged 1)")] if recipe.writing_styles else []),
        ("source", spec.source or "-"), ("licence", spec.license),
        ("provided by", f"{model.provider.distribution} {model.provider.version} ({model.entry_point})"),
    ]
    for key, value in rows:
        table.add_row(key, escape(str(value)))
    return table


def layers_source(source: Any) -> str:
    """Where a layer table comes from, in a few words: '(run ID)', '(shipped weights)', '(built)'."""
    from pathlib import Path

    if source is None:
        return "(built with Keras)"
    path = Path(source)
    if path.parent.name == "weights" and path.parent.parent.name == "pretrained":
        return f"(from the shipped weights, {path.stem}@pretrained)"
    return f"(from run {path.parent.name})"


def layers_table(layers: list[dict[str, Any]], total: int, source: Any = None) -> Table:
    """The layer table; its title says where the layers were read from (a file, or a built model)."""
    table = Table(title=f"layers {escape(layers_source(source))}", title_justify="left")
    table.add_column("layer", style="cyan")
    table.add_column("type")
    table.add_column("output shape")
    table.add_column("params", justify="right")
    for layer in layers:
        table.add_row(escape(layer["name"]), escape(layer["type"]), escape(layer["output_shape"]),
                      f"{layer['params']:,}")
    table.add_section()
    table.add_row("total", "", "", f"{total:,}", style="bold")
    return table


def plugins_table(registry: Registry) -> Table:
    table = Table(title="model plugins", title_justify="left")
    table.add_column("distribution", style="bold")
    table.add_column("version")
    table.add_column("models")
    table.add_column("status")
    for provider in registry.providers():
        names = [m.spec.name for m in registry.models.values() if m.provider == provider]
        broken = [b for b in registry.broken if b.provider == provider]
        state = "[green]ok[/]" if not broken else f"[red]{len(broken)} broken[/]"
        label = provider.distribution + (" [dim](built-in)[/]" if provider.builtin else "")
        table.add_row(label, escape(provider.version), escape(", ".join(names) or "-"), state)
    return table
