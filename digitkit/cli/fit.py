"""`digitkit fit`: train a model into a run directory."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digitkit.cli.options import JsonFlag, QuietFlag, complete_dataset, complete_model_name


def command(
    model: Annotated[Optional[str], typer.Argument(help="Model name, as `digitkit list-models` shows it.",
                                                   autocompletion=complete_model_name, show_default=False,
                                                   metavar="MODEL")] = None,
    dataset: Annotated[Optional[str], typer.Option("--dataset", "-d", autocompletion=complete_dataset, help="Dataset name or folder of MNIST IDX files.")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="Epochs (default: the model's recipe).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Samples per step (default: recipe).")] = None,
    learning_rate: Annotated[Optional[float], typer.Option(help="Optimizer learning rate (default: recipe).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed for weights, data order, dropout (default: random, "
                                                     "recorded in the run).")] = None,
    validation_split: Annotated[Optional[float], typer.Option(help="Share of training digits held out for "
                                                                    "validation, 0 for none (default: recipe).")] = None,
    early_stopping: Annotated[bool, typer.Option("--early-stopping", help="Stop when validation loss stops "
                                                                          "improving; keep the best weights.")] = False,
    patience: Annotated[Optional[int], typer.Option(help="Epochs without improvement before early stopping "
                                                         "(default 3).")] = None,
    augment: Annotated[bool, typer.Option("--augment", help="Random shifts, rotations, scale and stroke width.")] = False,
    gpu: Annotated[bool, typer.Option("--gpu", help="Train on a GPU; fail if none is visible.")] = False,
    devices: Annotated[Optional[str], typer.Option(help="Train data-parallel on N devices, or 'all' "
                                                        "(MirroredStrategy; TF_CONFIG for several machines).")] = None,
    mixed_precision: Annotated[bool, typer.Option("--mixed-precision", help="float16 compute (GPU only).")] = False,
    deterministic: Annotated[bool, typer.Option("--deterministic", help="Deterministic kernels: the same seed "
                                                                        "repeats a run bit for bit (slower).")] = False,
    name: Annotated[Optional[str], typer.Option("--name", help="A label for the run, usable wherever a run id is.",
                                                metavar="LABEL", show_default=False)] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Folder for the run directory (default: the home's runs/).")] = None,
    resume: Annotated[Optional[str], typer.Option(help="Continue an interrupted run (id or folder).",
                                                  metavar="RUN")] = None,
    train_size: Annotated[Optional[int], typer.Option(help="Use only the first N training digits.")] = None,
    test_size: Annotated[Optional[int], typer.Option(help="Use only the first N test digits.")] = None,
    quiet: QuietFlag = False,
    json_output: JsonFlag = False,
) -> None:
    """Train a model with its recipe and save the run (model, history, metrics, manifest).

    Progress goes to stderr (JSON Lines events with --json); the result to stdout. Ctrl-C
    stops at a safe point and prints the command that resumes the run.
    """
    from digitkit.training.options import FitOptions

    options = FitOptions(model=model, dataset=dataset, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, seed=seed, validation_split=validation_split,
                         early_stopping=early_stopping, patience=patience, augment=augment, gpu=gpu,
                         devices=devices, mixed_precision=mixed_precision, deterministic=deterministic, out=out,
                         resume=resume, name=name, train_size=train_size, test_size=test_size).check()
    from digitkit.render.console import out as out_console, print_json
    from digitkit.render.progress import make_progress, summary_table
    from digitkit.training.loop import fit

    progress = make_progress(quiet=quiet, json_lines=json_output)
    try:
        result = fit(options, progress=progress)
    finally:
        close = getattr(progress, "close", None)
        if close is not None:  # a spinner must not outlive an error raised before training
            close()
    if json_output:
        print_json(result.to_dict())
    elif quiet:
        out_console().print(f"{result.run_id}  test accuracy {result.test_metrics['accuracy']:.4f}",
                            highlight=False, markup=False)
    else:
        out_console().print(summary_table(result))
