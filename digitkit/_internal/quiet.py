"""Keep TensorFlow's, absl's and tfds' chatter off a CLI user's terminal (unless ``--debug``).

TensorFlow 2.21 writes from C++ straight to file descriptor 2: oneDNN and CPU-feature notices
at import, and later, at the first evaluation, "WARNING: All log messages before
absl::InitializeLog()" and "E0000 ... node_def_util.cc ... use_unbounded_threadpool".
``TF_CPP_MIN_LOG_LEVEL`` does not stop them, and no Python filter can. So the CLI, when its
stderr is a real file descriptor, *diverts* fd 2 to a temp file for the whole command and
gives Python's ``sys.stderr`` (rich, progress, errors) a duplicate of the original
descriptor: digitkit's own lines reach the terminal, C++ lines do not. Python-level noise
(warnings, the ``absl``/``tensorflow`` loggers) is turned off too.

Where fd 2 cannot be diverted (inside a test runner that replaced ``sys.stderr``), an import
hook still hides the start-up notices, and :func:`quiet_native_stderr` hides the late lines
around the calls that emit them. Library users who import digitkit keep TensorFlow's
default behaviour, except around those calls.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import logging
import os
import re
import sys
from typing import Any, Iterator

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


NOISY_LOGGERS = ("absl", "tensorflow", "tensorflow_datasets", "h5py", "jax")
_diverted: dict[str, Any] = {}


def _debug() -> bool:
    return os.environ.get("DIGITKIT_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def silence_tensorflow_startup() -> None:
    """CLI set-up: divert native stderr, install the import hook, mute Python-level noise.

    Idempotent; does nothing with ``--debug`` (``DIGITKIT_DEBUG``).
    """
    if _debug():
        return
    divert_native_stderr()
    import warnings

    warnings.simplefilter("ignore")  # TensorFlow/Keras/tfds deprecation and user warnings
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())


def divert_native_stderr() -> bool:
    """Send fd 2 to a temp file; ``sys.stderr`` keeps writing to where fd 2 went before.

    Returns whether fd 2 is diverted (False when ``sys.stderr`` is not fd 2, e.g. under
    ``CliRunner``, or in debug mode).
    """
    if _diverted:
        return True
    if _debug():
        return False
    try:
        if sys.stderr is None or sys.stderr.fileno() != 2:
            return False
    except (AttributeError, OSError, ValueError):
        return False
    sys.stderr.flush()
    import tempfile  # here, not at import: see _QuietLoader

    terminal = os.dup(2)
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    stream = open(terminal, "w", encoding=encoding, errors="backslashreplace", buffering=1, closefd=True)
    capture = tempfile.TemporaryFile(prefix="digitkit-native-stderr-")
    os.dup2(capture.fileno(), 2)
    _diverted.update(stream=stream, capture=capture, previous=sys.stderr)
    sys.stderr = stream
    return True


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Hide what C++ code writes to fd 2 inside the block (nothing to do when diverted or
    in debug mode). Python's ``sys.stderr`` must not be written to inside the block."""
    if _diverted or _debug():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):
        yield
        return
    with open(os.devnull, "wb") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
