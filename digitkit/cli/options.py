"""Options and completions shared by several commands (no heavy imports)."""

from __future__ import annotations

from typing import Annotated

import typer


def complete_model_name(incomplete: str) -> list[str]:
    """Installed model names, for shell completion."""
    from digitkit import registry

    try:
        return [m.spec.name for m in registry.list_models() if m.spec.name.startswith(incomplete)]
    except Exception:  # completion must never crash the shell
        return []


def complete_model_ref(incomplete: str) -> list[str]:
    """Model names and run ids, for commands that take a trained model."""
    from digitkit import runs

    names = complete_model_name(incomplete)
    try:
        names += [r.id for r in runs.list_runs() if r.id.startswith(incomplete)]
    except Exception:
        pass
    return names


ModelName = Annotated[
    str, typer.Argument(help="Model name, as `digitkit list-models` shows it.", autocompletion=complete_model_name)
]
ModelRef = Annotated[
    str,
    typer.Argument(
        help="A run id, a path to a .keras file or run folder, or a model name (its latest run).",
        autocompletion=complete_model_ref,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result.")]
