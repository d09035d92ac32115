"""Where digitkit keeps its runs and data: the digitkit home.

``~/.digitkit`` unless ``DIGITKIT_HOME`` (or a command's ``--home``) says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "DIGITKIT_HOME"


def home_dir() -> Path:
    """The digitkit home; not created until something is written there."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".digitkit"


def runs_dir() -> Path:
    """Folder holding one sub-folder per training run."""
    return home_dir() / "runs"


def data_dir() -> Path:
    """Folder holding prepared datasets (tensorflow-datasets' ``data_dir``)."""
    return home_dir() / "data"


def set_home(path: str | os.PathLike[str] | None) -> None:
    """Point this process (and its children) at another home, as ``--home`` does."""
    if path is not None:
        os.environ[HOME_ENV] = str(Path(path).expanduser().resolve())
