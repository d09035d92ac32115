"""`digitkit show-model`."""

from __future__ import annotations

from digitkit.cli.options import JsonFlag, ModelName


def command(name: ModelName, json_output: JsonFlag = False) -> None:
    """Show a model's metadata, recipe and layers (read from a run or the shipped weights, else built)."""
    import contextlib

    from digitkit.plugins import registry
    from digitkit.modelfiles.layers import layer_table
    from digitkit.render.console import err, escape, out, print_json
    from digitkit.render.models import layers_table, spec_table

    model = registry.get_model(name)
    with contextlib.ExitStack() as stack:
        def building() -> None:  # seconds of TensorFlow: say so (nothing when stderr is not a terminal)
            stack.enter_context(err().status(f"building {escape(model.spec.name)} with Keras to list its layers ..."))

        layers, total, source = layer_table(model.spec, building=building)
    if json_output:
        print_json({**model.spec.metadata(), "layers": layers, "built_params": total,
                    "layers_from": str(source) if source is not None else None})
        return
    console = out()
    console.print(spec_table(model))
    console.print()
    console.print(layers_table(layers, total, source))
    if total != model.spec.params:
        err().print(f"[yellow]warning:[/] the spec declares {model.spec.params:,} parameters, the "
                    f"{'saved' if source is not None else 'built'} model has {total:,}", soft_wrap=True)
