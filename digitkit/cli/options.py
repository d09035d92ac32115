"""Options and completions shared by several commands (no heavy imports).

Short options are the same in every command that has the option:

    -d --dataset   -e --epochs   -f --format   -g --gallery  -k --top-k   -m --model
    -n --count     -o --out      -q --quiet    -w --wide     -y --yes     -h --help

Options with a fixed set of values are ``Literal`` types, so the shell completes them and a
typo is a one-line usage error listing the choices.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def complete_model_name(incomplete: str) -> list[str]:
    """Installed model names, for shell completion."""
    from digitkit.plugins import registry

    try:
        return [m.spec.name for m in registry.list_models() if m.spec.name.startswith(incomplete)]
    except Exception:  # completion must never crash the shell
        return []


def complete_run_id(incomplete: str) -> list[str]:
    """Run ids (newest last), for commands that take a run; reads manifests, never TensorFlow."""
    from digitkit import runs

    try:
        return [r.id for r in runs.list_runs() if r.id.startswith(incomplete)]
    except Exception:  # a damaged home must not break the shell
        return []


def complete_dataset(incomplete: str) -> list[str]:
    """Dataset names digitkit knows (a folder path is completed by the shell as usual)."""
    try:
        from digitkit.data import SAMPLE_NAME
        from digitkit.data.catalog import KNOWN_SIZES

        names = [SAMPLE_NAME] + [f"{n}/" if n == "mnist_corrupted" else n for n in KNOWN_SIZES]
    except Exception:  # completion must never crash the shell
        return []
    return [n for n in names if n.startswith(incomplete)]


def complete_model_ref(incomplete: str) -> list[str]:
    """Model names and run ids, for commands that take a trained model."""
    return complete_model_name(incomplete) + complete_run_id(incomplete)


ModelName = Annotated[
    str, typer.Argument(help="Model name, as `digitkit list-models` shows it.", autocompletion=complete_model_name,
                        metavar="MODEL", show_default=False)
]
ModelRef = Annotated[
    str,
    typer.Argument(
        help="A run id, a path to a .keras file or run folder, or a model name (its latest run).",
        autocompletion=complete_model_ref, metavar="MODEL", show_default=False,
    ),
]
RunId = Annotated[
    str, typer.Argument(help="A run id (or a unique prefix of one).", autocompletion=complete_run_id,
                        metavar="RUN", show_default=False)
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result.")]
def dataset_option(default: str) -> typer.models.OptionInfo:
    """``--dataset``/``-d`` with completion; ``default`` says what it means when not given."""
    return typer.Option("--dataset", "-d", metavar="DATASET", show_default=False, autocompletion=complete_dataset,
                        help=f"Dataset name or folder, as `digitkit datasets` lists them (default: {default}).")


DatasetOption = Annotated[Optional[str], dataset_option("mnist")]
