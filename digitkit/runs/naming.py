"""What a user may type to name a run.

(What a MODEL argument means, files and shipped weights included, is
:func:`digitkit.inference.refs.resolve`, which uses :func:`find_run` for the run part.)

A run answers to, in this order (the first form that matches wins):

1. its full id (``20260101-120000-cnn-1a2b``);
2. its label, the manifest field ``name`` (``fit --name baseline``), case-insensitive;
3. the short hash that ends its id (``1a2b``);
4. a unique prefix of its id (``20260101-12``);
5. a model name, case-insensitive: that model's latest run.

An empty name, or a prefix or label that several runs share, is refused with the
candidates listed, so ``runs rm`` can never pick a run the user did not mean.
"""

from __future__ import annotations

from pathlib import Path

from digitkit.errors import UsageError
from digitkit.runs.directory import Run, RunUnreadable
from digitkit.runs.listing import latest_run_of, list_runs

MAX_LISTED = 5

def _label(run: Run) -> str | None:
    try:
        return run.load_manifest().name
    except RunUnreadable:
        return None

def _ambiguous(ref: str, kind: str, matches: list[Run]) -> UsageError:
    listed = ", ".join(r.id for r in matches[:MAX_LISTED])
    more = f" and {len(matches) - MAX_LISTED} more" if len(matches) > MAX_LISTED else ""
    return UsageError(f"{kind} {ref!r} matches {len(matches)} runs: {listed}{more}",
                      hint="give more of the id, or the full id")

def find_run(ref: str, root: Path | None = None, *, by_model: bool = True) -> Run | None:
    """The run ``ref`` names (see the module docstring), or ``None`` when nothing answers.

    Args:
        ref: what the user typed.
        root: the folder holding runs (default: the home's).
        by_model: also accept a model name (its latest run, of any status).

    Raises:
        UsageError: ``ref`` is empty, or it is a label, hash or prefix several runs share.
    """
    ref = ref.strip()
    if not ref:
        raise UsageError("an empty run id names no run (an empty prefix would match every run)",
                         hint="see `digitkit runs` for ids")
    runs = list_runs(root)
    exact = [r for r in runs if r.id == ref]
    if exact:
        return exact[0]
    labelled = [r for r in runs if (_label(r) or "").lower() == ref.lower()]
    if len(labelled) > 1:
        raise _ambiguous(ref, "label", labelled)
    if labelled:
        return labelled[0]
    hashed = [r for r in runs if r.suffix == ref.lower()] if len(ref) >= 3 else []
    if len(hashed) > 1:
        raise _ambiguous(ref, "hash", hashed)
    if hashed:
        return hashed[0]
    prefixed = [r for r in runs if r.id.startswith(ref)]
    if len(prefixed) > 1:
        raise _ambiguous(ref, "run id prefix", prefixed)
    if prefixed:
        return prefixed[0]
    if by_model:
        return latest_run_of(ref, root, completed=False)
    return None

def get_run(ref: str, root: Path | None = None) -> Run:
    """The run ``ref`` names: id, label, hash suffix, unique id prefix or model name.

    Raises:
        UsageError: nothing answers, ``ref`` is empty, or it is ambiguous (candidates listed).
    """
    run = find_run(ref, root)
    if run is None:
        raise UsageError(f"no run {ref!r}", hint="see `digitkit runs` for ids, labels and models")
    return run
