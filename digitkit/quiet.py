"""Keep TensorFlow's start-up chatter off a CLI user's terminal.

TensorFlow 2.21 prints oneDNN and CPU-feature notices from C++ before its logging is
configured, so ``TF_CPP_MIN_LOG_LEVEL`` does not silence them. The CLI installs an import
hook that, only while ``tensorflow`` is first imported, sends file descriptor 2 to a temp
file, then replays every line that is not one of those known notices. Library users who
import digitkit keep TensorFlow's default behaviour.
"""

from __future__ import annotations

import importlib.abc
import os
import re
import sys
from typing import Any

# Compiled when TensorFlow is imported (compiling it costs ~10 ms of every LiteRT predict).
NOISE_PATTERN = (
    r"All log messages before absl::InitializeLog|oneDNN custom operations|cpu_feature_guard|"
    r"To enable the following instructions|rebuild TensorFlow with the appropriate compiler flags|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered|"
    r"Could not find cuda drivers|TF-TRT Warning"
)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        import tempfile  # here: the LiteRT path never imports TensorFlow

        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile(mode="w+b") as capture:
            os.dup2(capture.fileno(), 2)
            try:
                self._loader.exec_module(module)
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                capture.seek(0)
                noise = re.compile(NOISE_PATTERN)
                kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                        if not noise.search(line)]
                sys.stderr.write("".join(kept))


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "tensorflow":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def silence_tensorflow_startup() -> None:
    """Install the hook (idempotent; a no-op once TensorFlow is imported or in debug mode)."""
    if "tensorflow" in sys.modules or os.environ.get("DIGITKIT_DEBUG"):
        return
    if not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
