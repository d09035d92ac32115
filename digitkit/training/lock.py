"""One writer per run: ``fit`` holds the run's lock while it trains or resumes it.

The lock itself is :func:`digitkit.runs.lock` (``<run>/.lock`` holding the holder's pid; a
lock whose process is gone is taken over), shared with every other command that writes
into a run. A second ``fit --resume`` of a run in training is refused in one line naming
the holder's pid.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from digitkit import runs


@contextlib.contextmanager
def hold(run_path: Path, run_id: str | None = None) -> Iterator[None]:
    """Hold the lock of the run in ``run_path`` for the ``with`` block.

    Raises:
        UsageError: (``runs.RunLocked``) another live process holds it.
    """
    with runs.lock(runs.Run(Path(run_path))):
        yield
