"""`digitkit show-model`."""

from __future__ import annotations

from digitkit.cli.options import JsonFlag, ModelName


def command(name: ModelName, json_output: JsonFlag = False) -> None:
    """Show a model's metadata, recipe and layers (builds it, so it loads Keras)."""
    from digitkit.plugins import registry
    from digitkit.plugins.building import describe_layers
    from digitkit.render.console import err, out, print_json
    from digitkit.render.models import layers_table, spec_table

    model = registry.get_model(name)
    layers, total = describe_layers(model.spec)
    if json_output:
        print_json({**model.spec.metadata(), "layers": layers, "built_params": total})
        return
    console = out()
    console.print(spec_table(model))
    console.print()
    console.print(layers_table(layers, total))
    if total != model.spec.params:
        err().print(f"[yellow]warning:[/] the spec declares {model.spec.params:,} parameters, the built model has {total:,}")
