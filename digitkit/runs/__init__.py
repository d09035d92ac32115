"""Run directories: the unit everything after training works from.

One module per job:

- :mod:`~digitkit.runs.files`: the files a run holds, bounded reading, one validator each;
- :mod:`~digitkit.runs.manifest`: the typed, versioned :class:`Manifest`;
- :mod:`~digitkit.runs.directory`: :class:`Run` and :func:`create_run`;
- :mod:`~digitkit.runs.listing`: every run under a home, unreadable ones and trash included;
- :mod:`~digitkit.runs.naming`: what a user may type to name a run or a model;
- :mod:`~digitkit.runs.removal`: removal through the trash, so nothing is lost half-way;
- :mod:`~digitkit.runs.locking`: one writer per run.

See docs/runs.md.
"""

from __future__ import annotations

from digitkit.runs.directory import RUN_ID_PATTERN, Run, RunUnreadable, create_run, now_iso
from digitkit.runs.files import (
    BEST, EVALUATION, HISTORY_CSV, HISTORY_JSON, LOCK, MANIFEST, METRICS, MODEL, NUMBERS_EVALUATION,
    NUMBERS_PICTURES, PREDICTIONS, STATE, STATE_JSON, TFLITE, RunFileError, read_bytes, read_json,
)
from digitkit.runs.listing import Listing, latest_run_of, list_all, list_runs, readable_runs, trash_folders
from digitkit.runs.locking import RunLocked, lock
from digitkit.runs.manifest import SCHEMA_VERSION, Manifest, ManifestError
from digitkit.runs.naming import find_run, get_run
from digitkit.runs.removal import PurgeResult, purge_trash, remove_run

__all__ = [
    "BEST", "EVALUATION", "HISTORY_CSV", "HISTORY_JSON", "LOCK", "MANIFEST", "METRICS", "MODEL", "NUMBERS_EVALUATION", "NUMBERS_PICTURES", "PREDICTIONS", "RUN_ID_PATTERN", "SCHEMA_VERSION", "STATE", "STATE_JSON", "TFLITE", "Listing", "Manifest",
    "ManifestError", "PurgeResult", "Run", "RunFileError", "RunLocked", "RunUnreadable", "create_run",
    "find_run", "get_run", "latest_run_of", "list_all", "list_runs", "lock", "now_iso", "purge_trash",
    "read_bytes", "read_json", "readable_runs", "remove_run", "trash_folders",
]
